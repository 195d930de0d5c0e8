"""A user mistake found as a DDP run is set up: one error line (from rank 0), every rank exits non-zero, no hang."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# `metanet train ARGS` as the console script runs it; each rank records the code its main() returned (Lightning
# re-runs this script for rank 1, with LOCAL_RANK=1)
_DRIVER = """
import os, sys
from metanet.cli import main

code = main(["train", *sys.argv[1:]])
with open(f"rank{os.environ.get('LOCAL_RANK', '0')}.code", "w") as f:
    f.write(str(code))
sys.exit(code)
"""


@pytest.mark.slow
def test_a_bad_export_path_under_ddp_is_one_error_line_and_every_rank_fails(tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER)
    (tmp_path / "taken").mkdir()  # model.export an existing directory: refused by every rank's setup
    args = [sys.executable, str(driver), "fit", "-c", str(ROOT / "train" / "writer.yaml"),
            "--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu", "--trainer.logger=false",
            "--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={tmp_path}",
            "--data.bases=[digits]", "--data.val_episodes=1", "--data.steps_per_epoch=1",
            f"--model.export={tmp_path / 'taken'}"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert "MEMBER: 2/2" in log, log[-4000:]  # both ranks joined the run, so both met the check
    # each rank printed it before: the same line twice
    errors = [line for line in proc.stderr.splitlines() if line.startswith("metanet: error:")]
    assert len(errors) == 1 and "model.export" in errors[0] and "is a directory" in errors[0], proc.stderr[-4000:]
    assert "Traceback" not in proc.stderr
    assert proc.returncode != 0
    assert (tmp_path / "rank1.code").read_text() == "2"  # the worker failed too, unprinted
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == []
