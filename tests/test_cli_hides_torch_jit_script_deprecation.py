"""The ``metanet`` command hides torch's DeprecationWarning of ``torch.jit.script``, which PyTorch Geometric calls as
it is imported (shown under ``-W default`` / ``PYTHONWARNINGS=default``; nothing a user of the command can change),
and only for the command's run: after ``main()`` returns, a caller's own ``torch.jit.script`` still warns, and the
command's other warnings still show."""

from __future__ import annotations

import warnings

import torch

from metanet import commands
from metanet.cli import main

JIT = "`torch.jit.script` is deprecated"


def _scripted(x: torch.Tensor) -> torch.Tensor:
    return x + 1


def _messages(seen: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in seen]


def test_torch_jit_script_deprecation_is_hidden_for_the_command_only(monkeypatch):
    def run(args) -> int:  # `metanet tasks`, made to do what importing PyTorch Geometric does
        torch.jit.script(_scripted)
        warnings.warn("a warning of the command's own", UserWarning)
        return 0

    monkeypatch.setattr(commands, "_tasks", run)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert main(["tasks"]) == 0
        during = _messages(seen)
        del seen[:]
        torch.jit.script(_scripted)  # the caller's own, after main() returned
        after = _messages(seen)
    assert not [m for m in during if m.startswith(JIT)], during
    assert "a warning of the command's own" in during
    assert [m for m in after if m.startswith(JIT)], after
