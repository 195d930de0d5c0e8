"""Generated.save of a model changed after generation (an in-place edit, fine-tuning): its metadata said
"zero_gradient_steps: true, test_accuracy 0.958" of weights pruned in place to 0.42, and named a recipe that does not
write them."""

from __future__ import annotations

import warnings

import pytest
import torch

import metanet
from metanet.writer.generate import Generated, _fingerprint
from tests.generated_helpers import fake_generated


def _as_written() -> Generated:
    g = fake_generated()
    g.written = _fingerprint(g.model)  # as generate() records it
    return g


def test_an_unchanged_model_is_saved_with_its_scores(tmp_path):
    g = _as_written()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        meta = metanet.load_meta(g.save(tmp_path / "g.safetensors"))
    assert meta["zero_gradient_steps"] is True and meta["test_accuracy"] == 0.75
    assert "modified_after_generation" not in meta


@pytest.mark.parametrize("change", ["in-place edit", "optimizer step", "replaced model"])
def test_a_model_changed_after_generation_is_saved_without_the_written_ones_claims(tmp_path, change):
    g = _as_written()
    if change == "in-place edit":
        with torch.no_grad():
            g.model.layers[0].weight[0, 0] = 0.0
    elif change == "optimizer step":
        opt = torch.optim.SGD(g.model.parameters(), lr=0.1)
        g.model(torch.randn(5, 4)).sum().backward()
        opt.step()
    else:
        g.model = g.candidates[0]
    with pytest.warns(UserWarning, match="changed after generation"):
        path = g.save(tmp_path / "g.safetensors")
    meta = metanet.load_meta(path)
    assert meta["modified_after_generation"] is True and meta["zero_gradient_steps"] is False
    assert meta["test_accuracy"] is None and meta["val_accuracy"] is None
    back = metanet.load(path)  # the changed weights are what was saved
    assert all(torch.equal(a, b) for a, b in zip(back.state_dict().values(), g.model.state_dict().values()))


def test_a_generated_network_records_its_written_weights():
    g = metanet.generate("digits", seed=0, candidates=2)
    assert g.written == _fingerprint(g.model)
    assert _fingerprint(g.candidates[0]) != _fingerprint(g.candidates[1])
