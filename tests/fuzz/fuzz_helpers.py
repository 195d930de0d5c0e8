"""Helpers shared by the fuzz tests."""

from __future__ import annotations

from typing import Any, Callable

from hypothesis import settings

from metanet.errors import MetanetError

__all__ = ["only_metanet_errors", "fuzz_settings"]


def fuzz_settings(max_examples: int) -> settings:
    """The ``fuzz`` profile (conftest.py) with this test's number of examples."""
    return settings(settings.get_profile("fuzz"), max_examples=max_examples)


def only_metanet_errors(fn: Callable[[], Any]) -> Any:
    """Call ``fn``; a MetanetError is fine (its message must name the problem), anything else fails the test."""
    try:
        return fn()
    except MetanetError as e:
        msg = str(e)
        assert msg.strip(), f"{type(e).__name__} with an empty message"
        assert "\n" not in msg.strip() or len(msg) < 2000, msg
        return e
