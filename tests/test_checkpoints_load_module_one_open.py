"""load_module reads a checkpoint's config and its tensors from one open of the file: it opened the path twice (the
header, then the tensors), so a checkpoint saved to the path in between gave one file's config and the other's
tensors."""

import safetensors
import torch
from torch import nn

import metanet.checkpoints as checkpoints
import metanet.io
from metanet.checkpoints import load_module, save_module


class Scaled(nn.Module):
    """A toy checkpoint model: ``scale`` is config only, the weight is a tensor."""

    def __init__(self, width: int, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.lin = nn.Linear(width, width)


def _saved(path, scale: float) -> None:
    module = Scaled(3, scale)
    with torch.no_grad():
        module.lin.weight.fill_(scale)
    save_module(module, path, "toy", {"width": 3, "scale": scale})


def test_a_checkpoint_replaced_after_the_first_open_gives_one_files_config_and_tensors(tmp_path, monkeypatch):
    path = tmp_path / "toy.safetensors"
    _saved(path, 1.0)
    other = tmp_path / "other.safetensors"
    _saved(other, 2.0)
    real = safetensors.safe_open
    opens = []

    def replacing_open(*args, **kwargs):
        handle = real(*args, **kwargs)
        opens.append(args)
        if len(opens) == 1:  # another process saves a checkpoint to the path after the first open
            other.replace(path)
        return handle

    monkeypatch.setattr(metanet.io, "safe_open", replacing_open)
    monkeypatch.setattr(checkpoints, "safe_open", replacing_open, raising=False)
    module = load_module(Scaled, path, "toy")
    # one file's config and tensors: the first (held open) or the new one (reopened), never a mix
    assert float(module.lin.weight[0, 0]) == module.scale
    assert module.scale in (1.0, 2.0)


def test_an_unchanged_checkpoint_loads_as_saved(tmp_path):
    path = tmp_path / "toy.safetensors"
    _saved(path, 2.0)
    module = load_module(Scaled, path, "toy")
    assert module.scale == 2.0 and torch.equal(module.lin.weight, torch.full((3, 3), 2.0))
    assert not module.training


def test_a_file_that_is_no_safetensors_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{nope")
    try:
        load_module(Scaled, path, "toy")
    except metanet.CheckpointError as e:
        assert str(e).startswith(f"{path} is not a readable safetensors checkpoint (")
    else:
        raise AssertionError("a junk file loaded")
