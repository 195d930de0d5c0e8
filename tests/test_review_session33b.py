"""Session 33 review (B): a reader / writer file whose config holds an option this version's constructor does not take
is named as a file of another metanet version, as one whose layers differ already was."""

from __future__ import annotations

import json

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from metanet.errors import CheckpointError
from metanet.reader import Reader
from metanet.writer import Writer

MAKE = {"writer": lambda: Writer(hidden=8, message=4),
        "reader": lambda: Reader(["digits"], hidden=8, layers=1, probes=2)}


def _with_config(module, path, **extra):
    """``module`` saved to ``path`` with ``extra`` added to its stored config (a file of another version)."""
    module.save(path)
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    config = {**json.loads(meta["metanet.config"]), **extra}
    save_file(load_file(str(path)), str(path), metadata={**meta, "metanet.config": json.dumps(config)})
    return path


@pytest.mark.parametrize("kind", MAKE)
def test_a_config_option_this_version_does_not_take_is_named_as_another_versions_file(kind, tmp_path):
    # was: "checkpoint does not match Writer: TypeError: Writer.__init__() got an unexpected keyword argument
    # 'new_option'", which said neither where it came from nor what to do
    path = _with_config(MAKE[kind](), tmp_path / f"{kind}.safetensors", new_option=3, other=True)
    cls = type(MAKE[kind]())
    with pytest.raises(CheckpointError) as e:
        cls.load(path)
    message = str(e.value)
    assert "'new_option', 'other'" in message and f"this version's {cls.__name__} does not take" in message
    assert "load it with the version that wrote it" in message and "TypeError" not in message

