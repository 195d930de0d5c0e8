"""SIGTERM to a ``metanet train fit`` under DDP (two CPU processes, gloo): every process gets it at once when it is
sent to the process group, as ``timeout``, Slurm's ``scancel`` and Ctrl-C's terminal do.
The fit stops at the end of one batch on every process and exits 143, nothing left running.

Lightning's own handler broadcasts a flag from rank 0 inside the signal handler: rank 1's handler, run while rank 0
waited for it in the gradient all-reduce (a step slower on one process: each trains on tasks of its own), waited for
a broadcast rank 0 could not send until the all-reduce ended, and both waited for good (``timeout`` never ended the
command).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lightning_helpers import tiny_loop_fit

ROOT = Path(__file__).resolve().parents[2]
TERMINATED = "metanet: terminated (SIGTERM)"

# `metanet ARGS`, whose rank 1 holds in its second round's forward pass (so rank 0 waits for it in the gradient
# all-reduce) and says so on stderr: the test sends SIGTERM then. A file, not `python -c`: Lightning re-runs it for
# rank 1
_HOLD = """
import sys, time
import metanet.loop.lightning as ll
_round = ll.round_loss
def round_loss(writer, batch, cfg, reward, seed):
    import torch.distributed as dist
    if dist.get_rank() == 1 and seed == 1009 + 1:  # step 1
        print('holding', file=sys.stderr, flush=True)
        time.sleep(3)  # the SIGTERM arrives in here; rank 0 is in the all-reduce
    return _round(writer, batch, cfg, reward, seed)
ll.round_loss = round_loss
from metanet.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _gone(pgid: int, timeout: float) -> bool:
    """Whether every process of the group has ended within ``timeout`` seconds (rank 1 exits on its own)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow  # two processes, each importing torch and Lightning (~20 s); the group case only (the one that hung)
def test_sigterm_under_ddp_stops_every_process_with_143(tmp_path):
    script = tmp_path / "hold.py"
    script.write_text(_HOLD)
    args = ["train", *tiny_loop_fit(tmp_path, "--trainer.strategy=ddp", "--trainer.devices=2",
                                    "--trainer.accelerator=cpu", max_steps=100000, logger=False)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, str(script), *args], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lines = []
        for line in p.stderr:  # until rank 0 holds (or the process ends)
            lines.append(line)
            if line.startswith("holding"):
                break
        assert lines and lines[-1].startswith("holding"), "".join(lines)[-3000:]
        os.killpg(p.pid, signal.SIGTERM)  # as timeout, scancel and a terminal's Ctrl-C do
        try:
            code = p.wait(90)
        except subprocess.TimeoutExpired:
            pytest.fail("the DDP fit did not end after SIGTERM (its processes waited for each other)")
        rest = p.stderr.read()
        assert code == 143, rest[-3000:]
        assert rest.strip().splitlines()[-1].startswith(TERMINATED), rest[-3000:]
        assert _gone(p.pid, 30), "rank 1 still running after rank 0 exited"
        assert not (tmp_path / "loop.safetensors").exists()  # a stopped fit exports nothing
        import torch

        last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)  # kept, written whole
        assert last["global_step"] >= 1
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
