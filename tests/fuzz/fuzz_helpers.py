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


def files_state(d) -> dict[str, tuple[int, int]]:
    """``name -> (size, mtime_ns)`` of everything directly in folder ``d``: compare two snapshots to show a call
    created, removed or rewrote nothing there."""
    from pathlib import Path

    return {p.name: (p.lstat().st_size, p.lstat().st_mtime_ns) for p in Path(d).iterdir()}


def state_of(model: Any) -> dict[str, Any]:
    """Detached clones of ``model``'s state_dict (to check a call left its input network unchanged)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two :func:`state_of` snapshots hold the same names, dtypes and values (NaNs in the same places)."""
    import torch

    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and torch.equal(a[k].isnan(), b[k].isnan())
                                        and torch.equal(a[k].nan_to_num(), b[k].nan_to_num()) for k in a)
