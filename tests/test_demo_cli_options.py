"""``metanet demo``'s options reach ``run_demo`` as given (``--threads 1`` was dropped: the demo ran on its default
thread count), and the prune stage's "magnitude pruning alone" figure is the curve's value at the sparsity closest to
the verified prune's target (not the farthest one)."""

from __future__ import annotations

import pytest

import metanet.demo as demo
from metanet.cli import main
from metanet.errors import ConfigError


def test_demo_options_are_passed_to_run_demo(monkeypatch, tmp_path, capsys):
    seen: list[tuple] = []

    def fake(out, **kwargs):
        seen.append((out, kwargs))
        raise ConfigError("stopped by the test")

    monkeypatch.setattr(demo, "run_demo", fake)
    out = str(tmp_path / "d")
    argv = ["demo", "--out", out, "--seed", "4", "--quick", "--candidates", "3", "--rounds", "5", "--threads", "1"]
    assert main(argv) == 2 and "stopped by the test" in capsys.readouterr().err
    assert seen == [(out, {"seed": 4, "quick": True, "candidates": 3, "rounds": 5, "threads": 1})]


@pytest.mark.parametrize("target, want", [(0.7, 0.6), (0.0, 0.9), (0.95, 0.1), (0.3, 0.8)])
def test_magnitude_pruning_figure_is_taken_at_the_closest_sparsity(target, want):
    curve = [{"sparsity": s, "val_accuracy": a} for s, a in ((0.0, 0.9), (0.25, 0.8), (0.7, 0.6), (0.95, 0.1))]
    assert demo._at(curve, target) == want
