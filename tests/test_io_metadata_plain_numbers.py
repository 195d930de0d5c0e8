"""`metanet.save` stores numpy numbers and 0-d tensors in the metadata as the plain JSON numbers they are, keeping
their kind (an integer stays an integer, a bool a bool), inside lists, tuples and dicts alike: load_meta gives
``epochs=3``, not ``3.0``, and a tuple of numpy numbers is stored, not refused."""

from __future__ import annotations

import numpy as np
import torch

from metanet import load_meta, save
from metanet.nets import build


def test_numpy_and_tensor_scalars_keep_their_kind(tmp_path):
    meta = {"epochs": np.int64(3), "clean": np.bool_(True), "acc": np.float32(0.5), "n": torch.tensor(7),
            "loss": torch.tensor(0.25), "flag": torch.tensor(False),
            "shape": (np.int64(1), np.int32(8), 8), "nested": {"ks": [np.int16(2), (np.float64(1.5),)]}}
    path = save(build("mlp:64-8-10", seed=0), tmp_path / "net.safetensors", **meta)
    got = load_meta(path)
    assert got == {"epochs": 3, "clean": True, "acc": 0.5, "n": 7, "loss": 0.25, "flag": False, "shape": [1, 8, 8],
                   "nested": {"ks": [2, [1.5]]}}
    kinds = {k: type(got[k]) for k in ("epochs", "clean", "acc", "n", "loss", "flag")}
    assert kinds == {"epochs": int, "clean": bool, "acc": float, "n": int, "loss": float, "flag": bool}
    assert [type(v) for v in got["shape"]] == [int, int, int] and type(got["nested"]["ks"][0]) is int
