"""``metanet train fit --ckpt_path FILE`` refuses a file whose zip records are compressed before anything loads it:
Lightning writes them stored, and torch.load inflates compressed ones in memory (a crafted 195 KB file took 397 MB)."""

import zipfile

import pytest
import torch

from metanet.errors import ConfigError
from metanet.train import _check_ckpt_classes


def _deflated(src, dst):
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as b:
        for info in a.infolist():
            b.writestr(info.filename, a.read(info.filename))


def test_a_compressed_checkpoint_is_refused_before_it_is_loaded(tmp_path, monkeypatch):
    plain, packed = tmp_path / "plain.ckpt", tmp_path / "packed.ckpt"
    torch.save({"hyper_parameters": {}, "state_dict": {"w": torch.zeros(1000)}}, plain)
    _deflated(plain, packed)
    _check_ckpt_classes(plain, {})  # stored records: loaded and checked as before
    loads = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(a))
    with pytest.raises(ConfigError, match=r"--ckpt_path .*packed\.ckpt: its records .* are compressed"):
        _check_ckpt_classes(packed, {})
    assert loads == []
