"""The Python tour's architecture examples ('"a 2-layer MLP with 128 units for mnist" writes mlp:784-128-10:relu,
"a CNN for fashion-mnist" cnn:1-32-32-10:relu:k3:s2') are what metanet.generate builds from those texts: the words
read by metanet.tasks.arch_text, completed for the task's input shape and class count as _generate does. Text
only: both tasks are 1x28x28 with 10 classes (README's task table), so no data is loaded."""

from __future__ import annotations

import re
from pathlib import Path

from metanet.nets import Arch
from metanet.tasks.arch_text import arch_from_words, arch_words

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _examples() -> list[tuple[str, str]]:
    lines = README.split("# the text may name the architecture too:", 1)[1].split("(metanet.tasks.arch_text", 1)[0]
    comment = " ".join(line.strip().lstrip("#").strip() for line in lines.splitlines())
    return re.findall(r'"([^"]+)" (?:writes )?((?:mlp|cnn):[\w:-]+)', comment)


def test_readme_architecture_examples_are_what_the_text_writes():
    examples = _examples()
    assert len(examples) == 2, examples
    for text, arch in examples:
        assert text.endswith(("for mnist", "for fashion-mnist")), text  # 1x28x28, 10 classes
        written = arch_from_words(arch_words(text), (1, 28, 28), 10)
        assert written == Arch.parse(arch), (text, str(written), arch)
