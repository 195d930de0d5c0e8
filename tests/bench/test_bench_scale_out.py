"""bench/scale_out.py: argument errors before Ray starts, and exit code 1 with a message when the two zoos differ, a
measurement fails or the script fails; a DDP fit without a usable event file is a measurement error.

Every script is run only at tiny sizes and always with an output path (or ROOT) in a temporary folder, and heavy work
is stubbed: the committed results in bench/results are never touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench_helpers import ROOT, load_bench
from bench_helpers import usage_error as _usage_error


def test_scale_out_argument_errors_before_ray_starts(monkeypatch, tmp_path, capsys):
    mod = load_bench("scale_out", monkeypatch)
    monkeypatch.setattr(mod, "ray_build", lambda *a: pytest.fail("Ray started on bad arguments"))
    for argv, needle in [
        (["--recipe", "no-such-recipe"], "no-such-recipe"),
        (["--steps", "1"], "--steps must be >= 2"),  # was: ZeroDivisionError after both zoo builds
        (["--steps", "0"], "--steps must be >= 2"),  # was: the default 40
        (["--batch-size", "0"], "--batch-size must be >= 1"),
        (["--out", str(tmp_path)], "is a directory"),
    ]:
        _usage_error(mod.main, argv, needle, capsys)


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
