"""Bench test helpers: a bench script imported as a module, strict JSON reading, and a usage error checked."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_bench(name: str, monkeypatch, prefix: str = "bench_test"):
    """``bench/{name}.py`` as a fresh module (registered in ``sys.modules`` for the test only)."""
    spec = importlib.util.spec_from_file_location(f"{prefix}_{name}", ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, mod)  # dataclasses look their module up while it is executed
    spec.loader.exec_module(mod)
    return mod


def strict_json(text: str):
    """``json.loads`` refusing NaN / Infinity (not JSON: other tools reading the results would fail)."""
    def bad(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=bad)


def usage_error(main, argv: list[str], needle: str, capsys) -> None:
    """``main(argv)`` exits with code 2 (a usage error) naming ``needle`` on stderr, without a traceback."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2, argv
    err = capsys.readouterr().err
    assert needle in err, (argv, err)
    assert "Traceback" not in err
