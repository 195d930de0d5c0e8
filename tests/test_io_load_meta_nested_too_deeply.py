"""load_meta of a header whose metadata JSON is nested deeper than Python's decoder recurses (a crafted file): a
FileFormatError naming corrupt metadata, not a raw RecursionError."""

import json

import pytest
from safetensors.torch import save_file

import metanet
from metanet.nets import build, spec


def test_too_deeply_nested_metadata_is_a_file_format_error(tmp_path):
    model = build("mlp:4-3")
    deep = "[" * 200_000 + "]" * 200_000
    header = {"metanet.format": metanet.io.FORMAT_VERSION, "metanet.spec": json.dumps(spec(model)),
              "metanet.meta": deep}
    path = tmp_path / "deep.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata=header)
    with pytest.raises(metanet.FileFormatError, match=r"corrupt metadata in header \(RecursionError"):
        metanet.load_meta(path)
