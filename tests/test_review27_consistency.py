"""Review of round 27: one reading of a network's path for verify / refine as for read / to_graph, seeds checked by
one helper in the loop, and warnings of zoo splits and task data pointing at the user's call."""

import os
import warnings

import pytest
import torch

import metanet
from metanet.errors import FileFormatError
from metanet.nets import Arch, build
from metanet.tasks import from_examples


@pytest.fixture(scope="module")
def task():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(200, 6, generator=g)
    return from_examples(x, (x[:, 0] > 0.5).long(), val_fraction=0, test_fraction=0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, task):
    path = tmp_path_factory.mktemp("net") / "net.safetensors"
    metanet.save(build(Arch.parse("mlp:6-8-2:relu"), seed=0), path)
    return path


@pytest.mark.parametrize("call", ["verify", "refine"])
@pytest.mark.parametrize("empty", ["", b""])
def test_empty_path_is_named_as_read_and_to_graph_name_it(call, empty, task):
    # verify('') said "'.': is a directory", verify(b'') "got an empty list of models"; read / to_graph name it
    f = {"verify": lambda p: metanet.verify(p, task, split="train"),
         "refine": lambda p: metanet.refine(p, task, steps=1, verify_on=None)}[call]
    with pytest.raises(FileFormatError, match="empty path names no network"):
        f(empty)


def test_bytes_path_verifies_as_its_str(saved, task):
    # a bytes path was iterated as a list of ints ("needs nn.Module networks ..., got int"); read() took it
    want = metanet.verify(str(saved), task, split="train")
    got = metanet.verify(os.fsencode(saved), task, split="train")
    assert (got.accuracy, got.loss, got.n) == (want.accuracy, want.loss, want.n)
    assert metanet.refine(os.fsencode(saved), task, steps=1, verify_on=None).model is not None


def test_bad_seed_same_error_in_improve_refine_and_loop_helpers(task):
    from metanet.errors import ConfigError
    from metanet.loop.tasks import check_seed

    with pytest.raises(ConfigError) as helper:
        check_seed(1.5)
    with pytest.raises(ConfigError) as refine:
        metanet.refine(build(Arch.parse("mlp:6-8-2:relu"), seed=0), task, steps=1, seed=1.5, verify_on=None)
    assert str(refine.value) == str(helper.value)


def test_partial_zoo_split_warning_points_at_the_users_call(tmp_path):
    from metanet.zoo import build as build_zoo

    zoo_dir = tmp_path / "tiny slice"
    build_zoo("tiny", zoo_dir, limit=2, progress=False)
    zoo = metanet.Zoo(zoo_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zoo.dataset(split="train", target="test_acc")  # via Zoo.dataset: stacklevel=3 named metanet/zoo/zoo.py
    split = [w for w in caught if "split is drawn over the runs present" in str(w.message)]
    assert len(split) == 1 and split[0].filename == __file__
    zoo.close()
