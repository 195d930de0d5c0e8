"""Shared test setup.

CI installs the package (``pip install -e .``); a plain checkout is made importable here too, so
``pytest`` works from the repository root either way.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tests run single-threaded: their networks are tiny, and on a 2-core machine intra-op threads only add
    contention. Restored after each module so nothing leaks into code that sets its own thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class StubTask:
    """The part of the ``metanet.tasks.Task`` contract that ``verify`` uses, with data chosen by the test.

    ``splits`` maps a split name to ``(x, y)``; every split asked for is recorded in ``asked``.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, num_classes: int, name: str = "stub", split: str = "test"):
        self.name = name
        self.num_classes = num_classes
        self.input_shape = tuple(x.shape[1:])
        self.splits = {split: (x, y)}
        self.asked: list[str] = []

    def split(self, name: str):
        self.asked.append(name)
        return self.splits[name]


@pytest.fixture(autouse=True)
def _console_handlers_on_open_streams():
    """Point logging handlers left on a closed stream back at ``sys.stderr`` after each test: Lightning gives its
    package logger a ``StreamHandler`` on the ``sys.stderr`` of the moment it is first imported, so a test importing
    it under ``capsys`` left every later Lightning log line a "--- Logging error ---" traceback on stderr (which
    tests of one-line errors then read)."""
    yield
    import logging

    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for h in getattr(logger, "handlers", ()):
            if type(h) is logging.StreamHandler and getattr(h.stream, "closed", False):
                h.stream = sys.stderr  # not setStream: it flushes the closed stream first


@pytest.fixture
def stub_task():
    """Factory: ``stub_task(x, y, num_classes, name="stub")`` -> a task with exactly that data."""
    return StubTask


@pytest.fixture(scope="session")
def tiny_zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``zoo/tiny.yaml`` built once per session (about 10 s on 2 cores); read-only for tests.

    ``METANET_TINY_ZOO=DIR`` reuses a zoo built earlier with ``metanet zoo build tiny --out DIR`` (the build is
    deterministic, so it is the same zoo); CI always builds it.
    """
    from metanet.zoo import Zoo, build

    given = os.environ.get("METANET_TINY_ZOO")
    if given:
        zoo = Zoo(given)
        if len(zoo) != 384 or {n.recipe for n in zoo} != {"tiny"} or not zoo.check().ok:
            raise RuntimeError(f"METANET_TINY_ZOO={given} is not a complete, intact build of zoo/tiny.yaml")
        return Path(given)
    out = tmp_path_factory.mktemp("tiny") / "zoo"
    build(ROOT / "zoo" / "tiny.yaml", out, progress=False)
    return out


@pytest.fixture(scope="session")
def partial_tiny_zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny recipe's first 4 runs (a ``--limit`` build: 92 of its 96 runs missing), built once per session;
    read-only for tests."""
    from metanet.zoo import build

    out = tmp_path_factory.mktemp("partial") / "tiny part"
    build("tiny", out, limit=4, progress=False)
    return out


@pytest.fixture(scope="module")
def digits_net():
    """A digits MLP trained for a few steps (accuracy well above chance, so wrong numbers would show); eval mode."""
    import torch
    from torch import nn

    from metanet import tasks
    from metanet.nets import build

    x, y = tasks.get("digits").split("train")
    m = build("mlp:64-16-10:relu", seed=0)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(60):
        opt.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
    return m.eval()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME is a fresh folder (with a space in its name) and the working directory another one, where a '~' that
    was not expanded would land as a folder named '~'."""
    h, cwd = tmp_path / "home dir", tmp_path / "cwd"
    h.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.chdir(cwd)
    return h


@pytest.fixture(scope="module")
def graph():
    """The neural graph of a small seeded MLP, ``mlp:4-3-2:relu`` (one per test module)."""
    from metanet.graph import to_graph
    from metanet.nets import build

    torch.manual_seed(0)
    return to_graph(build("mlp:4-3-2:relu"))


@pytest.fixture
def fake_mnist(monkeypatch, tmp_path):
    """mnist from a folder of (fake) IDX files in $METANET_DATA (a path with a space and an accent); the task caches
    restored afterwards."""
    from metanet import tasks
    from metanet.tasks import registry, sources
    from tests.tasks.tasks_helpers import make_idx_folder

    saved_tasks, saved_base = dict(registry._TASKS), dict(sources._CACHE)
    tasks.clear_cache()
    monkeypatch.setattr(sources, "CACHE_DIR", tmp_path / "home-cache")
    make_idx_folder(tmp_path / "data dir é" / "mnist", n_train=360, n_test=60)
    monkeypatch.setenv("METANET_DATA", str(tmp_path / "data dir é"))
    yield tmp_path
    tasks.clear_cache()
    registry._TASKS.update(saved_tasks)
    sources._CACHE.update(saved_base)
