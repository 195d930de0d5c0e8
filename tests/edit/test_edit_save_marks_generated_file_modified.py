"""An edited network saved with the metadata of a file metanet.generate wrote keeps its recipe (candidate, seed,
writer) as where it started, and says the weights changed since: ``modified_after_generation``, as Generated.save
and ``metanet refine --out`` mark it. The edited file claimed the recipe rebuilt these weights."""

from metanet import edit, load_meta
from metanet.nets import build


def _removed(tmp_path, meta):
    result = edit.remove(build("mlp:64-8-10:relu", seed=0), {1: [0]}, "digits")
    return load_meta(result.save(tmp_path / "edited.safetensors", meta=meta))


def test_an_edited_generated_network_is_marked_modified(tmp_path):
    meta = _removed(tmp_path, {"task": "digits", "generated_by": "metanet.writer", "candidate": 3, "seed": 0})
    assert meta["modified_after_generation"] is True
    assert (meta["candidate"], meta["seed"]) == (3, 0)  # where it started


def test_a_network_metanet_did_not_generate_gets_no_such_mark(tmp_path):
    assert "modified_after_generation" not in _removed(tmp_path, {"task": "digits"})
