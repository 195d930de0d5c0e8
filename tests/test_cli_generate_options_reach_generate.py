"""Every option of ``metanet generate`` reaches ``metanet.generate`` as given: a value dropped on the way (``--seed 5``
run as seed 0) wrote a network other than the one asked for, without a word, and the defaults-only checks passed."""

from __future__ import annotations

import pytest

import metanet.writer
from metanet.cli import main
from metanet.errors import ConfigError


@pytest.fixture
def seen(monkeypatch):
    """``metanet.writer.generate`` replaced by a recorder that stops the command; ``Writer.load`` by a stand-in."""
    calls: list[tuple[str, dict]] = []

    def fake(spec, **kwargs):
        calls.append((spec, kwargs))
        raise ConfigError("stopped by the test")

    monkeypatch.setattr(metanet.writer, "generate", fake)
    monkeypatch.setattr(metanet.writer.Writer, "load", staticmethod(lambda path: ("loaded", path)))
    return calls


@pytest.mark.parametrize("seed", ["5", "-3", str(2**63 - 1)])
def test_generate_options_are_passed_on(seen, capsys, seed):
    argv = ["generate", "digits[3,8]", "--arch", "mlp:64-16-2:tanh", "--candidates", "3", "--no-verify",
            "--seed", seed, "--shots", "7", "--writer", "w.safetensors"]
    assert main(argv) == 2 and "stopped by the test" in capsys.readouterr().err
    spec, kwargs = seen[-1]
    assert spec == "digits[3,8]"
    assert kwargs == {"arch": "mlp:64-16-2:tanh", "candidates": 3, "verify": False, "seed": int(seed), "shots": 7,
                      "writer": ("loaded", "w.safetensors")}
