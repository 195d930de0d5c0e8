"""A metanet process leaves nothing in the temporary folder: PyG writes the propagate it generates for a
MessagePassing class to a temporary .py file in every process and never deletes it (two files per run of
``metanet generate`` or ``metanet read``, thousands after a while); metanet's classes delete it once imported."""

import os
import subprocess
import sys

SCRIPT = """
import torch, metanet
from metanet.nets import build
metanet.read(build("mlp:64-16-10:relu", seed=0))
g = metanet.generate("digits", candidates=2, seed=0)
print(g.report.test.accuracy)
"""


def test_reading_and_generating_leave_no_files_in_the_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 0.5 < float(out.stdout.strip().splitlines()[-1]) <= 1.0  # the message passing really ran
    left = [p.name for p in tmp.iterdir() if p.suffix == ".py"]
    assert left == [], f"files left in TMPDIR: {left}"


def test_a_second_instance_and_a_copy_still_run_after_the_file_is_gone():
    import copy

    import torch

    from metanet.reader.model import EdgeConv
    from metanet.writer.model import WeightMessages

    a = WeightMessages(3, 4)
    b = copy.deepcopy(WeightMessages(3, 4))  # __setstate__ re-imports nothing: the module stays loaded
    ei = torch.tensor([[0, 1], [0, 0]])
    for m in (a, b):
        assert m(torch.randn(1, 2, 3), ei, (2, 1)).shape == (1, 1, 4)
    assert EdgeConv(4, 2).propagate.__module__.endswith("_propagate")  # PyG's generated one is what runs
