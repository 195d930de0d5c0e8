"""load_meta of a network file whose header has no 'metanet.meta' (a file written without metadata by another tool,
or by hand): no metadata, an empty mapping, not an error; and what the key holds must be a mapping."""

import json

import pytest
from safetensors.torch import save_file

import metanet
from metanet.nets import build, spec


def _file(path, **extra):
    model = build("mlp:4-3")
    header = {"metanet.format": metanet.io.FORMAT_VERSION, "metanet.spec": json.dumps(spec(model)), **extra}
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata=header)
    return path


def test_a_file_without_the_meta_key_has_empty_metadata(tmp_path):
    path = _file(tmp_path / "bare.safetensors")
    assert metanet.load_meta(path) == {}
    assert isinstance(metanet.load(path), type(build("mlp:4-3")))


@pytest.mark.parametrize("stored", ["[]", "3", '"text"', "null"])
def test_metadata_that_is_no_mapping_is_a_file_format_error(tmp_path, stored):
    path = _file(tmp_path / "odd.safetensors", **{"metanet.meta": stored})
    with pytest.raises(metanet.FileFormatError, match="corrupt metadata in header .*not a mapping"):
        metanet.load_meta(path)
