"""`generate` writes the architecture a text spec names (it used its default one-hidden-layer MLP without a word)."""

from __future__ import annotations

import pytest

from metanet import generate
from metanet.errors import ArchError

KW = dict(candidates=1, shots=20, verify=False)


@pytest.mark.parametrize("text, arch", [
    ("a 2-layer MLP with 128 units for sklearn digits", "mlp:64-128-10:relu"),
    ("a small CNN for sklearn digits", "cnn:1-32-32-10:relu:k3:s2"),
    ("a network that can read sklearn digits with 3 hidden layers of 32", "mlp:64-32-32-32-10:relu"),
    ("sklearn digits 3 vs 8 with 2 hidden layers", "mlp:64-64-64-2:relu"),  # the classes stay classes
    ("a tanh mlp with layers of 64 and 32 units for 8x8 digits", "mlp:64-64-32-10:tanh"),
])
def test_the_text_architecture_is_written(text, arch, untrained):
    g = generate(text, writer=untrained, **KW)
    assert g.report.arch == arch
    assert [tuple(p.shape) for p in g.model.parameters()][0][0] == int(arch.split(":")[1].split("-")[1])


def test_no_architecture_words_keep_the_default(untrained):
    assert generate("only 3s and 8s of sklearn digits", writer=untrained, **KW).report.arch == "mlp:64-64-2:relu"


def test_arch_given_and_agreeing(untrained):
    g = generate("a tanh mlp for sklearn digits", arch="mlp:64-32-10:tanh", writer=untrained, **KW)
    assert g.report.arch == "mlp:64-32-10:tanh"


@pytest.mark.parametrize("text, arch, said", [
    ("a tanh mlp for sklearn digits", "mlp:64-64-10:relu", "tanh activations, but arch is 'mlp:64-64-10:relu'"),
    ("a CNN for sklearn digits", "mlp:64-64-10:relu", "a cnn, but arch is"),
    ("sklearn digits, 2 hidden layers of 128", "mlp:64-128-10:relu", "2 hidden layers, but arch"),
])
def test_arch_given_and_another_in_the_text(text, arch, said, untrained):
    with pytest.raises(ArchError, match=said):
        generate(text, arch=arch, writer=untrained, **KW)


@pytest.mark.parametrize("text, said", [
    ("a transformer for sklearn digits", "'transformer' is no architecture metanet writes; metanet writes two"),
    ("resnet-50 on sklearn digits", "'resnet-50' is no architecture"),
    ("an lstm for mnist1d", "'lstm' is no architecture"),
    ("a CNN for mnist1d", "a cnn reads images"),
    ("an mlp 784-128-10 for sklearn digits", "do not fit the task"),
])
def test_architectures_not_written_are_errors(text, said, untrained):
    with pytest.raises(ArchError, match=said):
        generate(text, writer=untrained, **KW)


def test_cli_generate_refuses_a_text_architecture_it_does_not_write_in_one_line(capsys):
    from metanet.cli import main

    assert main(["generate", "a transformer for sklearn digits", "--candidates", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'transformer' is no architecture" in err


def test_training_settings_in_the_text_are_said_to_be_ignored():
    # "10 epochs", "lr 1e-3" were silently dropped: the writer trains nothing
    from metanet.tasks.arch_text import training_words

    assert training_words("a network for mnist trained for 10 epochs with lr 1e-3 and batch size 64") == [
        "10 epochs", "lr 1e-3", "batch size 64"]
    assert training_words("a network that can read mnist 3 vs 8") == []
    with pytest.warns(UserWarning, match=r"'10 epochs', 'lr 1e-3' in the text are training settings, ignored"):
        generate("an mlp for sklearn digits trained for 10 epochs with lr 1e-3", candidates=1, verify=False)
