"""Fuzz tests (hypothesis): every public entry point, given random or corrupted input, either works or raises one of
metanet's own errors (:class:`metanet.errors.MetanetError`), and never leaves a half-written file behind.

A ``fuzz`` hypothesis settings profile keeps the whole directory fast on two shared cores (no deadline: the machine is
loaded; examples sized per test with ``max_examples``). Every hypothesis case run is counted and the total is
printed at the end of the session ("fuzz: N hypothesis cases"), which is the number issue 10 asks for.
"""

from __future__ import annotations

import copy
import functools
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

settings.register_profile(
    "fuzz",
    deadline=None,
    derandomize=True,  # the same cases on every run: a fuzz failure in CI reproduces locally
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    database=None,
)
# not loaded globally (other directories have their own hypothesis tests): fuzz tests take it as the parent of
# their settings, through fuzz_helpers.fuzz_settings(max_examples)

#: hypothesis cases run in this session (incremented by a wrapper around each test's inner function)
CASES = {"n": 0}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `test.hypothesis.inner_test` is hypothesis' documented hook for wrapping the function it calls per example
    here = Path(__file__).parent
    for item in items:
        if here not in Path(str(item.fspath)).parents:
            continue
        h = getattr(getattr(item, "obj", None), "hypothesis", None)
        if h is None or getattr(h.inner_test, "_fuzz_counted", False):
            continue
        inner = h.inner_test

        @functools.wraps(inner)
        def counted(*a: Any, _inner: Callable = inner, **k: Any) -> Any:
            CASES["n"] += 1
            return _inner(*a, **k)

        counted._fuzz_counted = True  # type: ignore[attr-defined]
        h.inner_test = counted


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CASES["n"]:
        terminalreporter.write_line(f"fuzz: {CASES['n']} hypothesis cases run in tests/fuzz")


#: a tiny zoo recipe: the tests/zoo SMALL recipe cut to 2 runs of 1 epoch (a few seconds to build)
def _tiny_recipe() -> dict:
    from tests.zoo.conftest import SMALL  # reuse the zoo tests' recipe

    r = copy.deepcopy(SMALL)
    r.update(name="fuzz", count=2, population=2, checkpoints=[0])
    r["train"].update(epochs=1, train_examples=200)
    r["eval"] = {"train_examples": 100}
    return r


@pytest.fixture(scope="session")
def tiny_recipe() -> dict:
    return _tiny_recipe()


@pytest.fixture(scope="session")
def fuzz_zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zoo of 4 networks built once per session (read-only: copy it before corrupting it)."""
    from metanet.zoo import build

    out = tmp_path_factory.mktemp("fuzzzoo") / "zoo"
    build(_tiny_recipe(), out, progress=False)
    return out


@pytest.fixture(scope="session")
def digits_net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small digits MLP saved with metanet.save (read-only)."""
    from metanet.io import save
    from metanet.nets import build

    path = tmp_path_factory.mktemp("nets") / "digits.safetensors"
    save(build("mlp:64-16-10:relu", seed=0), path, task="digits")
    return path
