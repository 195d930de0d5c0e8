"""metanet.edit.clamp: the values its report and the file's ``edits`` history record are the values the neurons were
clamped to, exactly (they were rounded to 6 decimals: a clamp to 1e-7 was recorded as a clamp to 0), so the
recorded edit made again gives the same weights."""

from __future__ import annotations

import pytest
import torch
from inspect_helpers import planted_task

from metanet import edit
from metanet.io import load_meta
from metanet.nets import build


def _replay(model, recorded: dict[str, float], task):
    return edit.clamp(model, ";".join(f"{k}={v!r}" for k, v in recorded.items()), task)


@pytest.mark.parametrize("given", ["1:3=1e-07", "1:3=0.123456789"])
def test_a_given_clamp_value_is_recorded_exactly_and_replays(given, tmp_path):
    model = build("mlp:8-9-4:sigmoid", seed=0).eval()
    task = planted_task()
    res = edit.clamp(model, given, task)
    value = float(given.split("=")[1])
    assert res.report.params["neurons"] == {"1:3": value}
    path = res.save(tmp_path / "c.safetensors")
    assert load_meta(path)["edits"][-1]["params"]["neurons"] == {"1:3": value}
    again = _replay(model, res.report.params["neurons"], task).model  # 0.0 was no sigmoid output: an ArchError
    assert all(torch.equal(a, b) for a, b in zip(res.model.state_dict().values(), again.state_dict().values()))


def test_a_clamp_to_the_mean_records_the_mean_itself():
    model = build("mlp:8-9-4:relu", seed=0).eval()
    with torch.no_grad():
        model.layers[0].weight[2] = 0.0
        model.layers[0].bias[2] = 2e-7  # a neuron whose mean output is 2e-7
    task = planted_task()
    res = edit.clamp(model, "1:2", task)  # mean ablation on the train split
    x, _ = task.split("train")
    with torch.no_grad():
        mean = float(torch.relu(model.layers[0](x.flatten(1)))[:, 2].mean())
    assert 0 < mean < 5e-7
    assert res.report.params["neurons"] == {"1:2": mean}  # was 0.0
    again = _replay(model, res.report.params["neurons"], task).model
    assert torch.equal(again.layers[0].bias, res.model.layers[0].bias)
