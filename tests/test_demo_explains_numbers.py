"""The demo's readable output says what its numbers measure: the summary row "Kendall τ 0.936 (...), mean |error|
0.011" named neither what is compared nor on what scale, and the loop printed rounds 0..N for "N rounds" with a
"reward" it never defined. Each stage runs alone here (the read stage on a one-run zoo, the loop with its rounds
stubbed), not in a full demo run."""

from __future__ import annotations

import warnings

import metanet.demo as demo
import metanet.loop
from metanet.io import tensorboard_writer


def _stage_output(tmp_path, stage, *args):
    lines: list[str] = []
    with tensorboard_writer(tmp_path / "tb") as tb:
        result = stage(demo._Run(progress=False, verbose=False), *args, demo._Log(tb), lines.append)
    return result, "\n".join(lines)


def test_read_stage_says_what_kendall_tau_compares(tmp_path):
    from metanet.zoo import build

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a one-run slice of the recipe
        build(demo.tiny_recipe(), tmp_path / "zoo", limit=1, progress=False)
    r, text = _stage_output(tmp_path, demo._stage_read, tmp_path, {"path": str(tmp_path / "zoo")})
    assert (f"reader on the zoo's {r['networks']} networks, predicted vs true test accuracy: "
            f"Kendall τ {r['kendall_tau']:.3f} (1 = the same order; ") in text
    assert f"mean |predicted - true| {r['abs_error_mean']:.3f}" in text


def test_loop_stage_says_what_reward_and_round_0_are(tmp_path, monkeypatch):
    rounds = [{"round": i, "reward_mean": 0.5, "reward_best": 0.6, "reward_worst": 0.4, "heldout_best_of_k": 0.55}
              for i in range(3)]

    class History:  # improve's history, without the writer's update rounds
        pass

    hist = History()
    hist.rounds = rounds
    monkeypatch.setattr(metanet.loop, "improve", lambda writer, *a, **k: (writer, hist))
    _, text = _stage_output(tmp_path, lambda run, log, say: demo._stage_loop(run, 0, True, 2, 2, log, say))
    header = next(line for line in text.splitlines() if line.startswith("loop on "))
    assert "reward: a candidate's val accuracy" in header
    assert "round 0: the shipped writer before any update" in header
    assert [line.split(":")[0].strip() for line in text.splitlines()[1:]] == ["round 0", "round 1", "round 2"]
