"""``metanet.read`` returns the keys its ``Returns:`` section names, and only those: over an MLP file, a CNN of
unknown image size, a network with more outputs than the reader's classes and one the trigger scan cannot run,
every key it gives is documented, and every documented key shows up (a key added or dropped on one side only
fails here)."""

from __future__ import annotations

import re
import warnings

import pytest

import metanet
import torch
from metanet.nets import build

#: the top-level keys the Returns section documents (some only in the cases that need them)
DOCUMENTED = {
    "accuracy", "task", "task_probabilities", "task_fits", "input_size_unknown", "backdoor", "trigger_scan",
    "trigger_scan_skipped", "hyperparameters", "neurons", "roles_not_read", "out_of_range", "class_names",
    "recorded_task", "unlike_training",
}


def _returns_section() -> str:
    doc = metanet.read.__doc__
    return doc[doc.index("Returns:"):doc.index("Raises:")]


@pytest.fixture(scope="module")
def readings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("read")
    path = metanet.save(build("mlp:64-16-10", seed=0), tmp / "mlp.safetensors", task="digits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # out_of_range warns as well
        return {
            "mlp file": metanet.read(path, scan=False),
            "cnn, size unknown": metanet.read(build("cnn:1-4-10", seed=0), scan=False),
            "12 outputs": metanet.read(build("mlp:64-8-12", seed=0), scan=False),
            "scan cannot run": metanet.read(build("mlp:5-4-3", seed=0)),
            "pruned": metanet.read(build("mlp:64-16-10", seed=0).requires_grad_(False).apply(
                lambda m: m.weight.zero_() if isinstance(m, torch.nn.Linear) else None), scan=False),
        }


def test_every_key_read_returns_is_documented_and_every_documented_key_returned(readings):
    section = _returns_section()
    # the section's other quoted names: sub-keys, role values, words of its prose; so a top-level key documented
    # but not listed here (nor returned) fails too
    others = {"lr", "epoch", "optimizer", "activation", "layer", "index", "role", "confidence", "class", "dead",
              "polysemantic", "selective", "reader_only", "num_classes", "UserWarning", "digits", "i"}
    assert set(re.findall(r"``(\w+)``", section)) - others == DOCUMENTED
    seen = set().union(*readings.values())
    assert seen == DOCUMENTED
    assert "input_size_unknown" in readings["cnn, size unknown"] and "roles_not_read" in readings["cnn, size unknown"]
    assert "out_of_range" in readings["12 outputs"] and "trigger_scan_skipped" in readings["scan cannot run"]
    assert "unlike_training" in readings["pruned"]


def test_the_documented_sub_keys_of_hyperparameters_and_neurons(readings):
    section = _returns_section()
    named = set(re.findall(r"``(\w+)``", section))
    for out in readings.values():
        assert set(out["hyperparameters"]) == {"lr", "epoch", "optimizer", "activation"}
        for n in out["neurons"]:
            assert set(n) <= named and {"layer", "index", "role", "confidence"} <= set(n)
            assert ("class" in n) == (n["role"] == "selective")
