"""The files `metanet inspect` writes into its output directory, and how a run replaces an earlier one's.

Inspect's own files in a directory are ``neurons.sqlite``, ``INDEX.md`` and the pictures ``weights_layerN.png``,
``top_examples_layerN.png`` and ``ablation_layerN.png`` (:data:`PICTURE`). They belong to the run that wrote them: a
run writes all of its files into a hidden staging directory first and only then moves them into place, removing
inspect's files of an earlier run that it did not write itself (the pictures of a layer the new network does not
have, all pictures after ``--no-pictures``), so the directory never mixes two networks. Files with other names are
never touched. An interrupted run (an error, Ctrl-C) removes its staging directory and leaves the output directory
as it was; a directory that did not exist is created only once complete (the staging directory is renamed to it).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from metanet.io import _temp_stem

__all__ = ["PICTURE", "DB_FILES", "is_picture", "is_inspect_file", "staged"]

#: names of the pictures :func:`metanet.inspect.pictures.save_pictures` writes
PICTURE = re.compile(r"(?:weights|top_examples|ablation)_layer\d+\.png")
#: the database files :meth:`metanet.inspect.NeuronDB.save` writes
DB_FILES = ("neurons.sqlite", "INDEX.md")


def is_picture(name: str) -> bool:
    """Whether ``name`` is the name of a picture inspect writes."""
    return PICTURE.fullmatch(name) is not None


def is_inspect_file(name: str) -> bool:
    """Whether ``name`` is the name of any file inspect writes (database, index or picture)."""
    return name in DB_FILES or is_picture(name)


def _open_mode(path: Path) -> None:
    """Give ``path`` (new and empty; mkdtemp makes it 0700) the mode a plain mkdir would: that of a probe folder made
    in it with os.mkdir, to which the kernel applies the umask. Reading the umask instead (``os.umask(0)``, then back)
    set the umask of the whole process to 0 for a moment: a file another thread created then was world-writable."""
    probe = path / ".mode-probe"
    os.mkdir(probe, 0o777)
    try:
        mode = stat.S_IMODE(probe.stat().st_mode)
    finally:
        os.rmdir(probe)
    os.chmod(path, mode)


@contextmanager
def staged(out_dir: str | os.PathLike, owns: Callable[[str], bool] = is_inspect_file) -> Iterator[Path]:
    """A fresh, empty staging directory for one run's files; when the ``with`` body finishes without an error its
    files replace those in ``out_dir``, and files in ``out_dir`` for which ``owns(name)`` holds that the run did not
    write are removed. On an error nothing in ``out_dir`` changes. Only plain files are moved (no subfolders).
    """
    out = Path(out_dir)
    fresh = not out.exists()
    try:
        if fresh:  # stage next to it: the whole directory appears at once
            out.parent.mkdir(parents=True, exist_ok=True)
            # the name shortened to fit with mkdtemp's additions: a long --out name (up to 255 bytes) was refused
            name = _temp_stem(out.parent, out.name, len(".inspect-12345678.tmp") + 1)
            stage = Path(tempfile.mkdtemp(prefix=f".{name}.inspect-", suffix=".tmp", dir=out.parent))
            try:
                _open_mode(stage)  # now, while it is empty
            except BaseException:
                shutil.rmtree(stage, ignore_errors=True)
                raise
        else:
            stage = Path(tempfile.mkdtemp(prefix=".inspect-", suffix=".tmp", dir=out))
    except OSError as e:  # name the output folder, not a staging folder the user never asked for
        raise OSError(e.errno, f"cannot write the output folder here ({e.strerror})", str(out)) from None
    try:
        try:
            yield stage
        except OSError as e:  # a full disk: name the file in the output folder, not in the staging one
            name = Path(os.fsdecode(e.filename)) if e.filename is not None else None
            if name is None or name.parent != stage:
                raise
            raise OSError(e.errno, e.strerror, str(out / name.name)) from None
        written = sorted(p.name for p in stage.iterdir())
        if fresh:
            try:
                os.rename(stage, out)  # atomic; fails if out appeared meanwhile and is not empty
                return
            except OSError:
                out.mkdir(parents=True, exist_ok=True)
        with _publishing(out):
            for name in written:
                os.replace(stage / name, out / name)
            for p in out.iterdir():
                if p.name not in written and owns(p.name) and p.is_file() and not p.is_symlink():
                    p.unlink(missing_ok=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


#: errnos of a file system that cannot lock the output folder (see _publishing)
_NO_LOCKS = (errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS)


@contextmanager
def _publishing(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the directory ``out`` itself (no lock file is added to it) while a run moves its
    files in: two runs into one folder at once each moved their files one by one, so the folder could keep one run's
    ``INDEX.md`` beside the other's ``neurons.sqlite``. Now the second waits for the first (a few renames) and
    replaces all of its files."""
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as e:
            # NFS emulates flock with a write lock, which a directory opened read-only cannot take (EBADF); some
            # FUSE and network file systems have no locks (ENOLCK, EOPNOTSUPP): publish unlocked, as before the lock
            if e.errno not in _NO_LOCKS:
                raise
        yield
    finally:
        os.close(fd)  # releases the lock
