"""A network holding a sparse weight (t.to_sparse()) is refused naming it and the fix (to_dense): save was a raw
"unsupported memory format option Contiguous", refine "... option Preserve", and verify / inspect said the network
"does not accept inputs of shape (1, 8, 8)"."""

from __future__ import annotations

import pytest
import torch

import metanet
from metanet.errors import ArchError
from metanet.nets import build


@pytest.fixture
def sparse_mlp():
    m = build("mlp:64-3-10", seed=0)
    m.layers[0].weight = torch.nn.Parameter(m.layers[0].weight.detach().to_sparse())
    return m


@pytest.mark.parametrize("call", ["save", "verify", "inspect", "refine"])
def test_a_sparse_weight_is_refused_naming_it_and_the_fix(sparse_mlp, tmp_path, call):
    calls = {"save": lambda: metanet.save(sparse_mlp, tmp_path / "n.safetensors"),
             "verify": lambda: metanet.verify(sparse_mlp, "digits"),
             "inspect": lambda: metanet.inspect(sparse_mlp, "digits"),
             "refine": lambda: metanet.refine(sparse_mlp, "digits", steps=1)}
    with pytest.raises(ArchError, match=r"\['layers.0.weight'\] are sparse \(torch.sparse_coo\).*to_dense\(\)"):
        calls[call]()
    assert not (tmp_path / "n.safetensors").exists()


def test_the_dense_copy_is_accepted(sparse_mlp):
    sparse_mlp.layers[0].weight = torch.nn.Parameter(sparse_mlp.layers[0].weight.detach().to_dense())
    got, want = metanet.verify(sparse_mlp, "digits"), metanet.verify(build("mlp:64-3-10", seed=0), "digits")
    assert (got.accuracy, got.loss, got.per_class) == (want.accuracy, want.loss, want.per_class)  # the same network
