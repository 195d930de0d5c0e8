"""tasks.download offline (urlopen monkeypatched, nothing is downloaded): each file is fetched from its own URL, a
file already present is not fetched again, a file of the wrong MD5 is refused, and a file cut off mid-download is
never left behind, neither under its own name nor as a temporary part."""

from __future__ import annotations

import hashlib
import http.client
import io
from types import SimpleNamespace

import pytest

from tasks_helpers import make_idx_folder

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks import fetch

ORDER = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture
def served(isolated, monkeypatch):
    """IDX files served offline under mnist's URL, with their own MD5s; the URLs asked for in ``served.urls``."""
    folder = isolated / "served"
    make_idx_folder(folder)
    base_url = fetch.DOWNLOADS["mnist"][0]
    md5s = {f: hashlib.md5((folder / f).read_bytes()).hexdigest() for f in fetch.DOWNLOADS["mnist"][1]}
    assert list(md5s) == ORDER  # the order files are fetched in
    monkeypatch.setitem(fetch.DOWNLOADS, "mnist", (base_url, md5s))
    urls: list[str] = []

    def urlopen(url, timeout=None):
        urls.append(url)
        assert url.startswith(base_url)
        return io.BytesIO((folder / url[len(base_url):]).read_bytes())

    monkeypatch.setattr(fetch.urllib.request, "urlopen", urlopen)
    return SimpleNamespace(folder=folder, urls=urls, base_url=base_url, md5s=md5s)


def test_each_file_comes_from_its_own_url_and_present_ones_are_kept(isolated, served):
    root = isolated / "root"
    (root / "mnist").mkdir(parents=True)
    present = (served.folder / ORDER[1]).read_bytes()
    (root / "mnist" / ORDER[1]).write_bytes(present)
    folder = tasks.download("mnist", root)
    assert served.urls == [served.base_url + f for f in ORDER if f != ORDER[1]]
    assert sorted(p.name for p in folder.iterdir()) == sorted(ORDER)  # no temporary part left
    for f in ORDER:
        assert (folder / f).read_bytes() == (served.folder / f).read_bytes()


def test_a_file_of_the_wrong_md5_is_refused_and_not_kept(isolated, served, monkeypatch):
    bad = "0" * 32
    monkeypatch.setitem(fetch.DOWNLOADS, "mnist", (served.base_url, {**served.md5s, ORDER[1]: bad}))
    root = isolated / "root"
    with pytest.raises(TaskError, match=rf"{ORDER[1]} has MD5 {served.md5s[ORDER[1]]}, expected {bad}; try again"):
        tasks.download("mnist", root)
    # the file checked before it stays (renamed into place whole); the refused one is nowhere, nor a part of it
    assert [p.name for p in (root / "mnist").iterdir()] == [ORDER[0]]
    assert (root / "mnist" / ORDER[0]).read_bytes() == (served.folder / ORDER[0]).read_bytes()
    assert served.urls == [served.base_url + f for f in ORDER[:2]]  # stopped at the refused file


class _CutAfter(io.BytesIO):
    """A response that gives its first bytes, then breaks off."""

    def read(self, n=-1):
        if self.tell():
            raise http.client.IncompleteRead(b"", 100)
        return super().read(100)


def test_a_file_cut_off_mid_download_leaves_no_partial_file(isolated, served, monkeypatch):
    def urlopen(url, timeout=None):
        served.urls.append(url)
        data = (served.folder / url.rsplit("/", 1)[1]).read_bytes()
        return _CutAfter(data) if url.endswith(ORDER[2]) else io.BytesIO(data)

    monkeypatch.setattr(fetch.urllib.request, "urlopen", urlopen)
    root = isolated / "root"
    with pytest.raises(TaskError, match=f"could not download .*{ORDER[2]}"):
        tasks.download("mnist", root)
    assert sorted(p.name for p in (root / "mnist").iterdir()) == sorted(ORDER[:2])
