"""Writes that fail for real, in subprocesses: a file size limit (``RLIMIT_FSIZE``; a write past it fails with
EFBIG, as a full disk or quota does) at several sizes, for metanet.save, the writer checkpoint, ``generate --out``,
``edit --out``, ``inspect --out``, ``zoo build`` and ``zoo merge``. Expected each time: one error line from the CLI
(exit 2, no traceback), no partial target, no temporary left beside it, an earlier file at the target intact, and a
zoo that a normal re-run finishes. Also names the file system takes but a longer temporary name would not, and a
target on another file system than the temporary folder."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from process_helpers import ROOT, run_cli

OLD = b"an earlier file"


def _limited(limit: int):
    """preexec_fn: files of this process may not grow past ``limit`` bytes; SIGXFSZ ignored, so a write past it is
    an OSError (EFBIG) instead of the end of the process."""
    def setup() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # SIG_IGN survives the exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return setup


def _metanet(args: list[str], cwd: Path, limit: int | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metanet", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, preexec_fn=_limited(limit) if limit is not None else None,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _metanets(runs: list[list[str]], cwd: Path, limit: int) -> list[subprocess.CompletedProcess]:
    """:func:`_metanet` for independent runs at once (each mostly imports torch: less wall time on 2 cores)."""
    procs = [subprocess.Popen([sys.executable, "-m", "metanet", *args], cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, preexec_fn=_limited(limit),
                              env={**os.environ, "PYTHONPATH": str(ROOT)}) for args in runs]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def _one_error_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("metanet: error: "), r.stderr[-2000:]
    return line


def _no_temporaries(folder: Path) -> None:
    left = [p.name for p in folder.rglob("*") if p.name.endswith((".tmp", "-journal", "-wal"))]
    assert left == [], left


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> Path:
    from metanet import save
    from metanet.nets import build

    path = tmp_path_factory.mktemp("net") / "n.safetensors"
    save(build("mlp:64-16-10"), path, task="digits")
    return path


# --- the Python API: every size from nothing to almost the whole file -------------------------------------------
def test_save_and_a_writer_checkpoint_past_a_file_size_limit_keep_the_earlier_file(tmp_path):
    script = textwrap.dedent("""
        import errno, os, resource, signal, sys
        from pathlib import Path
        import metanet
        from metanet.nets import build
        from metanet.writer import Writer
        out = Path(sys.argv[1]) / "dír with späce"
        out.mkdir()
        targets = {"net": out / "nët ✓.safetensors", "writer": out / "writer.safetensors"}
        for t in targets.values():
            t.write_bytes(b"an earlier file")
        writer = Writer.load()  # the shipped one: its save() is the fit-end export's
        model = build("mlp:64-32-10")
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        for limit in (1, 100, 4096, 10_000):
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))  # soft: raised again below
            for what, save in (("net", lambda p: metanet.save(model, p, task="digits")),
                               ("writer", lambda p: writer.save(p))):
                try:
                    save(targets[what])
                except OSError as e:
                    assert e.errno == errno.EFBIG and e.filename == str(targets[what]), (what, limit, e)
                else:
                    raise AssertionError(f"{what}: no error at a limit of {limit} bytes")
            resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            assert sorted(os.listdir(out)) == sorted(t.name for t in targets.values()), os.listdir(out)
            assert all(t.read_bytes() == b"an earlier file" for t in targets.values())
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]


# --- the CLI -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [2_000])
def test_generate_and_edit_out_past_a_file_size_limit_is_one_line(net, tmp_path, limit):
    out = tmp_path / "dír with späce"
    out.mkdir()
    target = out / "nët ✓.safetensors"
    target.write_bytes(OLD)
    runs = {"generate": ["generate", "digits", "--candidates", "1", "--shots", "5", "--out", str(target)],
            "edit": ["edit", str(net), "--prune", "0.5", "--out", str(target)]}
    for name, args in runs.items():
        line = _one_error_line(_metanet(args, tmp_path, limit))
        assert line == f"metanet: error: File too large: {target}", (name, line)
        assert os.listdir(out) == [target.name] and target.read_bytes() == OLD, name


@pytest.mark.parametrize("limit", [1_000, 30_000])
def test_inspect_out_past_a_file_size_limit_leaves_the_folder_as_it_was(net, tmp_path, limit):
    out = tmp_path / "insp ëct"
    out.mkdir()
    (out / "INDEX.md").write_bytes(OLD)
    fresh = tmp_path / "fresh"
    into_out, into_fresh = _metanets([["inspect", str(net), "--no-reader", "--max-examples", "64", "--out", str(d)]
                                      for d in (out, fresh)], tmp_path, limit)
    line = _one_error_line(into_out)
    assert str(out / "neurons.sqlite") in line, line
    assert os.listdir(out) == ["INDEX.md"] and (out / "INDEX.md").read_bytes() == OLD
    _one_error_line(into_fresh)
    assert not fresh.exists() and os.listdir(tmp_path) == [out.name]  # nor a staging folder beside it


def test_pictures_past_a_file_size_limit_keep_the_earlier_ones(net, tmp_path):
    # the database is the largest file inspect writes: the pictures are limited on their own here
    script = textwrap.dedent("""
        import errno, os, resource, signal, sys
        from pathlib import Path
        import metanet
        from metanet import tasks
        from metanet.inspect import inspect
        from metanet.inspect.pictures import save_pictures
        model, task = metanet.load(sys.argv[1]), tasks.resolve("digits")
        db = inspect(model, task, reader=None, max_examples=64)
        out = Path(sys.argv[2])
        out.mkdir()
        (out / "weights_layer1.png").write_bytes(b"an earlier file")
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        for limit in (100, 20_000):
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
            try:
                save_pictures(model, task, db, out)
            except OSError as e:
                assert e.errno == errno.EFBIG and Path(e.filename).parent == out, e
            else:
                raise AssertionError(f"no error at a limit of {limit} bytes")
            resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            assert os.listdir(out) == ["weights_layer1.png"], os.listdir(out)
            assert (out / "weights_layer1.png").read_bytes() == b"an earlier file"
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", script, str(net), str(tmp_path / "pics")], capture_output=True,
                       text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]


def _resumable(line: str, zoo: Path) -> None:
    # SQLite calls a write refused for any reason but ENOSPC (a quota, a file size limit) a "disk I/O error": that
    # was reported as a damaged index, with the advice to rebuild the zoo and lose its committed units
    assert "rebuild" not in line and "damaged" not in line, line
    assert str(zoo) in line and "run the same build or merge again (it resumes)" in line, line


@pytest.mark.parametrize("limit", [45_000])  # mid-build: shards written, the index refused
def test_zoo_build_past_a_file_size_limit_then_a_normal_run_finishes_it(tmp_path, limit, capsys):
    zoo = tmp_path / "my zoo"
    build = ["zoo", "build", "tiny", "--limit", "4", "--out", str(zoo), "--no-progress"]
    _resumable(_one_error_line(_metanet(build, tmp_path, limit)), zoo)
    _no_temporaries(zoo)
    # the normal runs need no file size limit, so no process of their own (each would mostly import torch)
    assert run_cli(build, capsys)[0] == 0
    code, out, _ = run_cli(["zoo", "check", str(zoo)], capsys)
    assert code == 0 and out.startswith("OK: 16 networks in 4 shards"), out
    _no_temporaries(zoo)


def test_zoo_merge_past_a_file_size_limit_then_a_normal_run_finishes_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the parts are named relative to it, as in the limited run's process
    # the builds, the normal merge and the check need no file size limit, so no process of their own
    for i in range(2):
        built = run_cli(["zoo", "build", "tiny", "--limit", "4", "--shard", f"{i}/2", "--out", f"part{i}",
                         "--no-progress"], capsys)
        assert built[0] == 0, built[2][-2000:]
    zoo = tmp_path / "merged"
    merge = ["zoo", "merge", str(zoo), "part0", "part1"]
    for limit in (45_000,):
        _resumable(_one_error_line(_metanet(merge, tmp_path, limit)), zoo)
        _no_temporaries(zoo)
    assert run_cli(merge, capsys)[0] == 0
    code, out, _ = run_cli(["zoo", "check", str(zoo)], capsys)
    assert code == 0 and out.startswith("OK: 16 networks in 4 shards"), out


# --- names and file systems ----------------------------------------------------------------------------------------
def test_a_file_name_of_up_to_255_bytes_is_written(tmp_path):
    # the temporary ('.NAME.XXXXXXXX.tmp') is 14 bytes longer: a name the file system takes was "File name too long"
    from metanet import load_meta, save
    from metanet.nets import build

    for name in ("a" * 243 + ".safetensors", "ü" * 121 + ".safetensors"):  # 255 and 254 bytes
        save(build("mlp:8-4-2"), tmp_path / name, task="digits")
        assert load_meta(tmp_path / name) == {"task": "digits"}
        assert sorted(os.listdir(tmp_path)) == [name]
        (tmp_path / name).unlink()
    too_long = "a" * 244 + ".safetensors"  # 256 bytes: no file system takes it, nor its temporary
    from metanet.errors import FileFormatError

    with pytest.raises(FileFormatError, match="file name too long"):
        save(build("mlp:8-4-2"), tmp_path / too_long)
    assert os.listdir(tmp_path) == []


def test_a_new_inspect_folder_of_up_to_255_bytes_is_written(tmp_path):
    from metanet.inspect.output import staged

    out = tmp_path / ("d" * 255)
    with staged(out) as stage:
        (stage / "INDEX.md").write_text("new")
    assert (out / "INDEX.md").read_text() == "new" and os.listdir(tmp_path) == [out.name]


def test_the_temporary_is_made_beside_a_target_on_another_file_system(tmp_path):
    from metanet.io import atomic_write

    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev or not os.access(shm, os.W_OK):
        pytest.skip("no writable /dev/shm on a file system of its own")
    folder = Path(__import__("tempfile").mkdtemp(dir=shm))
    try:
        target = folder / "x y.bin"
        target.write_bytes(OLD)
        link = tmp_path / "link.bin"  # on the temporary folder's file system, pointing across
        link.symlink_to(target)
        seen = []
        atomic_write(link, lambda tmp: (seen.append(Path(tmp)), Path(tmp).write_bytes(b"new")))
        assert seen[0].parent == folder and target.read_bytes() == b"new" and link.is_symlink()
        assert os.listdir(folder) == [target.name] and os.listdir(tmp_path) == ["link.bin"]
    finally:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
