"""Free text: filters, channels, feature maps, a kernel or a stride belong to a cnn, so a text naming no family asks
for one: "16/32 filters on mnist" wrote an mlp of widths 16, 32, and "mnist kernel 5" was refused as a kernel for an
mlp. A family named or refused ("an mlp with 16 channels", "no cnn, 16 filters") is kept as said."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words


@pytest.mark.parametrize("text, arch", [
    ("16/32 filters on mnist", "cnn:1-16-32-10:relu:k3:s2"),
    ("mnist, 16 and 32 channels", "cnn:1-16-32-10:relu:k3:s2"),
    ("mnist with 64 feature maps", "cnn:1-64-64-10:relu:k3:s2"),
    ("mnist kernel 5", "cnn:1-32-32-10:relu:k5:s2"),
    ("mnist 5x5 filters, stride 1", "cnn:1-32-32-10:relu:k5:s1"),
])
def test_cnn_words_without_a_family_ask_for_a_cnn(text: str, arch: str) -> None:
    words = arch_words(text)
    assert words["family"] == "cnn"
    assert str(arch_from_words(words, (1, 28, 28), 10)) == arch


@pytest.mark.parametrize("text, family", [
    ("an mlp with 16 channels for mnist", "mlp"),
    ("mnist 64 units", None),
    ("mnist hidden 32", None),
])
def test_family_said_or_no_cnn_words(text: str, family: str | None) -> None:
    assert arch_words(text).get("family") == family


def test_a_refused_cnn_is_not_asked_for() -> None:
    words = arch_words("no cnn, 16 filters on mnist")
    assert "family" not in words and words["not_family"] == "cnn"
