"""bench/run_all.py goes on when a zoo cannot be built; bench/scale_out.py exits non-zero when a measurement fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench_helpers import load_bench

ROOT = Path(__file__).resolve().parents[2]


def test_run_all_goes_on_when_a_zoo_build_fails(run_all, tmp_path, monkeypatch, capsys):
    # the docstring promises that a failing benchmark is reported and the run goes on: a zoo that could not be
    # built was a traceback that stopped the whole run (and wrote no table)
    import metanet.zoo

    def failing_build(recipe, out, **kw):
        raise OSError(f"No space left on device: {out}")

    ran = []

    def fake_run(cmd, **kw):
        ran.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(metanet.zoo, "build", failing_build)
    monkeypatch.setattr(run_all, "subprocess", SimpleNamespace(run=fake_run))  # not the module: platform uses it
    out = tmp_path / "R.md"
    rc = run_all.main(["--only", "verify_batched,reader,repair", "--zoos", str(tmp_path / "zoos"),
                       "--results", str(out)])
    assert rc == 1
    # the benchmark without zoos still ran; the two that need one were not started
    assert [Path(c[1]).name for c in ran] == ["verify_batched.py"]
    text = out.read_text()
    rows = [r for r in text.splitlines() if r.startswith("| #")]
    reader_rows = [r for r in rows if "[reader]" in r]
    assert reader_rows and all("zoo backdoor-mlp could not be built" in r for r in reader_rows), reader_rows
    assert all("could not be built" in r for r in rows if "[repair]" in r)
    assert "No space left on device" in text  # the cause, in the run times list
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "[run_all] zoo backdoor-mlp could not be built" in captured.out + captured.err


def test_run_all_tries_a_failed_zoo_only_once(run_all, tmp_path, monkeypatch):
    import metanet.zoo
    from metanet.errors import ZooError

    calls = []

    def failing_build(recipe, out, **kw):
        calls.append(Path(recipe).stem)
        raise ZooError("broken recipe")

    monkeypatch.setattr(metanet.zoo, "build", failing_build)
    monkeypatch.setattr(run_all, "subprocess", SimpleNamespace(run=lambda cmd, **kw: pytest.fail(f"ran {cmd}")))
    assert run_all.main(["--only", "reader,repair", "--zoos", str(tmp_path / "zoos"),
                         "--results", str(tmp_path / "R.md")]) == 1
    assert sorted(calls) == sorted(set(calls)), calls  # reader and repair both need tiny/backdoor-mlp


# ---------------------------------------------------------------------------------------------- scale_out
class _FakeNet:
    def __init__(self, i: int, sha: str):
        self.id, self.sha256 = i, sha


def _fake_zoos(monkeypatch, differ: bool):
    """Zoo(path) over fake networks: zoo2 differs from zoo1 when ``differ``."""
    import metanet.zoo

    def fake_zoo(path):
        nets = [_FakeNet(i, "a" * 64) for i in range(3)]
        if differ and Path(path).name == "zoo2":
            nets[1] = _FakeNet(1, "b" * 64)
        return nets

    monkeypatch.setattr(metanet.zoo, "Zoo", fake_zoo)


def _fake_run(devices, threads):
    return {"devices": devices, "threads_per_process": threads, "steps": 8, "logged_steps": 8, "train_seconds": 1.0,
            "process_wall_seconds": 2.0, "networks_per_second": 10.0 * devices}


def test_scale_out_exits_1_when_the_two_zoos_differ(monkeypatch, tmp_path, capsys):
    # the docstring's determinism check was only a field in the JSON: the script exited 0 on a failed check
    mod = load_bench("scale_out", monkeypatch)
    monkeypatch.setattr(mod, "ray_build", lambda recipe, out, cpus, limit: 3.0 / cpus)
    monkeypatch.setattr(mod, "ddp_fit", lambda zoo, work, devices, threads, steps, bs: _fake_run(devices, threads))
    _fake_zoos(monkeypatch, differ=True)
    out = tmp_path / "s.json"
    assert mod.cli(["--quick", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "scale_out: error:" in err and "differ" in err and "Traceback" not in err
    assert json.loads(out.read_text())["zoo_ray"]["identical_zoos"] is False  # the measurement is still written
    _fake_zoos(monkeypatch, differ=False)
    assert mod.cli(["--quick", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["zoo_ray"]["identical_zoos"] is True


def test_scale_out_exits_1_with_a_message_when_a_measurement_fails(monkeypatch, tmp_path, capsys):
    mod = load_bench("scale_out", monkeypatch)
    _fake_zoos(monkeypatch, differ=False)

    def no_ray(recipe, out, cpus, limit):
        raise ConnectionError("could not start Ray: port 6379 in use")

    monkeypatch.setattr(mod, "ray_build", no_ray)
    out = tmp_path / "s.json"
    assert mod.cli(["--quick", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "scale_out: error: zoo build on Ray with 1 CPU failed" in err and "port 6379" in err, err
    assert "Traceback" not in err and not out.exists()

    monkeypatch.setattr(mod, "ray_build", lambda recipe, out, cpus, limit: 1.0)

    def failed_fit(zoo, work, devices, threads, steps, bs):
        raise mod.MeasurementError("reader training failed (exit 1): RuntimeError: gloo")

    monkeypatch.setattr(mod, "ddp_fit", failed_fit)
    assert mod.cli(["--quick", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "scale_out: error: reader training failed" in err and not out.exists()


def test_scale_out_script_failure_is_a_message_and_exit_1(tmp_path):
    # `python bench/scale_out.py` ran main() and ignored what it found; a failure was a traceback
    fake = tmp_path / "fake" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("def init(**kw):\n    raise RuntimeError('Ray could not start here')\n")
    out = tmp_path / "s.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "scale_out.py"), "--quick", "--out", str(out)],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path / "fake")},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "scale_out: error: zoo build on Ray with 1 CPU failed: RuntimeError: Ray could not start here" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_ddp_fit_without_a_usable_event_file_is_a_measurement_error(monkeypatch, tmp_path):
    # a training run that exited 0 but logged nothing (or one step) was an IndexError / ZeroDivisionError
    mod = load_bench("scale_out", monkeypatch)
    monkeypatch.setattr(mod, "subprocess",
                        SimpleNamespace(run=lambda args, **kw: subprocess.CompletedProcess(args, 0, "", "")))
    with pytest.raises(mod.MeasurementError, match="no TensorBoard event file"):
        mod.ddp_fit(tmp_path / "zoo", tmp_path, 1, 1, 8, 4)
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(tmp_path / "runs"))
    w.add_scalar("train/loss", 1.0, 0)
    w.close()
    with pytest.raises(mod.MeasurementError, match="1 logged training step"):
        mod.ddp_fit(tmp_path / "zoo", tmp_path, 1, 1, 8, 4)
