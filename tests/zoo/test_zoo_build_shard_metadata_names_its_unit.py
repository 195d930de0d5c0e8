"""Each shard's safetensors metadata names the recipe and the unit it holds (``shards/{unit:05d}.safetensors``), so a
shard copied out of its zoo still says where it belongs."""

from __future__ import annotations

import json

from safetensors import safe_open


def test_every_shard_names_its_recipe_and_unit(small_zoo):
    shards = sorted((small_zoo / "shards").glob("*.safetensors"))
    assert len(shards) >= 2
    for p in shards:
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata()
        assert set(meta) == {"metanet.zoo"}
        assert json.loads(meta["metanet.zoo"]) == {"recipe": "small", "unit": int(p.stem)}
