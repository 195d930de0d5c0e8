"""A task the reader's task head does not know is named where it comes from: the data module's ``tasks`` when given
(the message said "the zoos hold tasks [...]" of tasks the zoos did not hold), else the zoos' own."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from metanet.errors import ZooError
from metanet.reader.lightning import ReaderDataModule, ReaderModule


def _setup(dm: ReaderDataModule) -> None:
    m = ReaderModule(tasks=["digits"])
    m._trainer = SimpleNamespace(datamodule=dm, precision="32-true")
    m.setup(stage=None)


def test_tasks_given_to_the_data_module_are_named_as_such(tmp_path):
    with pytest.raises(ZooError, match=r"^data\.tasks names tasks \['fashion-mnist'\] that the reader's task head"):
        _setup(ReaderDataModule(zoos=[str(tmp_path)], tasks=["digits", "fashion-mnist"]))


def test_tasks_read_from_the_zoos_are_the_zoos(tiny_zoo):
    dm = ReaderDataModule(zoos=[str(tiny_zoo)])
    if set(dm.task_names) <= {"digits"}:
        pytest.skip("the tiny zoo holds digits only")
    with pytest.raises(ZooError, match=r"^the zoos hold tasks \["):
        _setup(dm)
