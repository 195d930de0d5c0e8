"""Generated.save of a model quantized in place or moved to the 'meta' device after generation: fingerprinting its
state dict (to tell whether the weights changed) was a raw AttributeError ('torch.dtype' object has no attribute
'shape') / NotImplementedError, not metanet.save's ArchError naming the problem."""

from __future__ import annotations

import warnings

import pytest
import torch

from metanet.errors import ArchError
from metanet.writer.generate import Generated, _fingerprint
from tests.generated_helpers import fake_generated


def _as_written() -> Generated:
    g = fake_generated()
    g.written = _fingerprint(g.model)  # as generate() records it
    return g


@pytest.mark.parametrize("change, needle", [("quantized", "quantized"), ("meta", "'meta' device")])
def test_a_model_save_cannot_read_is_refused_by_save_without_a_warning_first(tmp_path, change, needle):
    g = _as_written()
    if change == "quantized":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notices
            torch.ao.quantization.quantize_dynamic(g.model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    else:
        g.model.to("meta")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ArchError, match=needle):
            g.save(tmp_path / "g.safetensors")
    assert not [w for w in caught if "Generated.save" in str(w.message)]  # nothing was saved
    assert not (tmp_path / "g.safetensors").exists()
    assert _fingerprint(g.model) is None
