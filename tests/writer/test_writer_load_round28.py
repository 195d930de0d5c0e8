"""Writer round 28: loading a writer leaves the caller's random stream alone and gives the same weights."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import TaskError
from metanet.writer import Writer, generate
from writer_helpers import needs_shipped


def _after_seed(load) -> torch.Tensor:
    torch.manual_seed(0)
    load()
    return torch.rand(3)


def test_loading_a_saved_writer_does_not_draw_from_the_global_rng(tmp_path, untrained):
    # Writer.load built the module (its throwaway default init from torch's global RNG) before loading its weights:
    # torch.manual_seed(0); Writer.load(p); torch.rand(3) differed from the same lines without the load
    path = untrained.save(tmp_path / "w.safetensors")
    assert torch.equal(_after_seed(lambda: Writer.load(path)), _after_seed(lambda: None))
    loaded = Writer.load(path)
    ref = untrained.state_dict()
    assert all(torch.equal(v, ref[k]) for k, v in loaded.state_dict().items())


@needs_shipped
def test_loading_the_shipped_writer_and_generating_keep_the_global_rng(digits):
    assert torch.equal(_after_seed(Writer.load), _after_seed(lambda: None))
    # generate(writer=None) loads the shipped writer inside: the caller's stream stays as it was there too
    gen = lambda: generate(digits, arch="mlp:64-8-10:relu", candidates=2, shots=5, verify=False)  # noqa: E731
    assert torch.equal(_after_seed(gen), _after_seed(lambda: None))


def test_load_under_a_meta_default_device_gives_a_writer_with_values(tmp_path, untrained, digits):
    # under torch.set_default_device("meta") Writer.load built the module on 'meta' and load_state_dict kept no
    # values: a writer that could not write ("... is on the 'meta' device; load one with Writer.load(path)")
    path = untrained.save(tmp_path / "w.safetensors")
    with torch.device("meta"):  # what torch.set_default_device("meta") does, undone on exit
        loaded = Writer.load(path)
    ref = untrained.state_dict()
    assert all(v.device.type == "cpu" and torch.equal(v, ref[k]) for k, v in loaded.state_dict().items())
    assert loaded.identity()["source"] == "file"


def test_meta_support_is_named_under_a_default_device(untrained):
    # under a default device (torch.set_default_device, "meta" or even "cpu") torch.as_tensor copied the meta
    # support there first: "must be tensors or arrays (NotImplementedError: Cannot copy out of meta tensor...)"
    x, y = torch.rand(6, 5), torch.tensor([0, 1, 0, 1, 0, 1])
    for device in ("meta", "cpu"):
        with torch.device(device):
            with pytest.raises(TaskError, match="support inputs are on the 'meta' device and hold no values"):
                untrained.write("mlp:5-4-2:relu", x.to("meta"), y)
            with pytest.raises(TaskError, match="support labels are on the 'meta' device and hold no values"):
                untrained.write("mlp:5-4-2:relu", x, y.to("meta"))
