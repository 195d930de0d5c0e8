"""metanet run by an unprivileged user on shared files it may read but not write, or not read at all.

Run as root (as CI is): a user is created for the module and deleted after it, and the commands run as that user
with ``runuser``, with an unwritable home. Skipped when not root, without ``useradd``/``runuser``, or when that user
cannot run this interpreter (e.g. one installed under root's home).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
USER = f"mtest_{os.getpid()}"


def _skip_reason() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root (to create a user and files it may not write)"
    if not (shutil.which("useradd") and shutil.which("userdel") and shutil.which("runuser")):
        return "needs useradd, userdel and runuser"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


@pytest.fixture(scope="module")
def shared():
    """A world-readable folder owned by root (like a colleague's share): holds ``home/`` (the user's unwritable
    home) and ``cwd/`` (an unwritable working directory); yields ``(folder, run)``, ``run(*args, cwd=...)`` running
    ``python -m metanet ARGS`` as the user."""
    folder = Path(tempfile.mkdtemp(prefix="metanet-perm-"))
    created = False
    try:
        folder.chmod(0o755)
        for name in ("home", "cwd"):
            (folder / name).mkdir(mode=0o755)
        made = subprocess.run(["useradd", "--no-create-home", "--home-dir", str(folder / "home"), USER],
                              capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"useradd failed: {made.stderr.strip()}")
        created = True
        env = {**os.environ, "HOME": str(folder / "home"),
               "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}

        def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
            return subprocess.run(["runuser", "-u", USER, "--", sys.executable, *args], env=env,
                                  cwd=str(cwd or folder / "cwd"), capture_output=True, text=True, timeout=120)

        probe = run("-c", "import metanet")
        if probe.returncode != 0:
            pytest.skip(f"user {USER} cannot run {sys.executable} with metanet: {probe.stderr.strip()[-200:]}")
        yield folder, run
    finally:
        if created:
            subprocess.run(["userdel", USER], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def zoo(shared):
    """A tiny zoo built by root into the shared folder: directories 755, files 644."""
    folder, _ = shared
    out = folder / "zoo"
    built = subprocess.run([sys.executable, "-m", "metanet", "zoo", "build", "tiny", "--out", str(out), "--limit",
                            "1", "--no-progress"], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert built.returncode == 0, built.stderr
    return out


@pytest.fixture(scope="module")
def net(shared):
    """A network saved by root in the shared folder (mode 644)."""
    import metanet
    from metanet.nets.models import build

    folder, _ = shared
    path = folder / "net.safetensors"
    metanet.save(build("mlp:64-8-10:relu", seed=0), path)
    path.chmod(0o644)
    return path


def _one_error_line(p: subprocess.CompletedProcess) -> str:
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and lines[0].startswith("metanet: error: "), (p.returncode, p.stderr)
    return lines[0]


def _tree(path: Path) -> list[tuple[str, int, float]]:
    return sorted((str(p), p.stat().st_size, p.stat().st_mtime) for p in path.rglob("*"))


def test_a_read_only_zoo_is_read_and_not_written(shared, zoo):
    _, run = shared
    before = _tree(zoo)
    assert run("-m", "metanet", "zoo", "check", str(zoo)).returncode == 0
    script = ("import sys, metanet\nz = metanet.Zoo(sys.argv[1])\nassert len(z) > 0\nz.load(z.select()[0].id)\n"
              "import warnings\nwarnings.simplefilter('ignore')\nassert list(z.dataset(split='train'))[:2]\n")
    p = run("-c", script, str(zoo))
    assert p.returncode == 0, p.stderr
    line = _one_error_line(run("-m", "metanet", "zoo", "build", "tiny", "--out", str(zoo), "--limit", "2"))
    assert str(zoo) in line and "not writable" in line
    assert _tree(zoo) == before  # no journal, lock or shard left behind


def test_a_zoo_index_the_user_may_not_read_is_one_line(shared, zoo):
    folder, run = shared
    private = folder / "private-zoo"
    shutil.copytree(zoo, private)
    (private / "index.sqlite").chmod(0o600)
    # was a traceback ending in sqlite3.OperationalError: unable to open database file
    line = _one_error_line(run("-m", "metanet", "zoo", "info", str(private)))
    assert str(private / "index.sqlite") in line and "permission denied" in line and "read access" in line
    p = run("-c", "import metanet, sys\ntry:\n    metanet.Zoo(sys.argv[1])\nexcept metanet.ZooError:\n"
                  "    sys.exit(3)\n", str(private))
    assert p.returncode == 3, p.stderr


def test_a_network_the_user_may_not_read_names_the_permission(shared, net):
    folder, run = shared
    private = folder / "private.safetensors"
    shutil.copy(net, private)
    private.chmod(0o600)
    # was "... is not a readable safetensors file (No such file or directory: ...)" about a file that exists
    line = _one_error_line(run("-m", "metanet", "read", "--no-scan", str(private)))
    assert str(private) in line and "Permission denied" in line and "No such file" not in line
    # readable but not writable: read as usual
    p = run("-m", "metanet", "graph", str(net))
    assert p.returncode == 0 and "mlp:64-8-10:relu" in p.stdout, p.stderr


def test_default_outputs_in_an_unwritable_working_directory_name_it(shared, net):
    folder, run = shared
    cwd = folder / "cwd"
    # was "'.' is not writable": which directory, and that --out chooses another, went unsaid
    line = _one_error_line(run("-m", "metanet", "demo", "--quick", cwd=cwd))
    assert f"({cwd})" in line and "--out" in line
    line = _one_error_line(run("-m", "metanet", "inspect", str(net), "--out", "neurons", cwd=cwd))
    assert f"({cwd})" in line and "--out" in line
    assert not any(cwd.iterdir()) and not any((folder / "home").iterdir())
