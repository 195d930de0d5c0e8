"""Trainer options and seeds Lightning refuses (or divides by) are one ``metanet: error:`` line and exit code 2 from
``metanet train fit``, naming the option: they were Lightning's MisconfigurationException / ValueError /
ZeroDivisionError tracebacks (exit 1), some only once the data was loaded."""

from __future__ import annotations

import pytest

from lightning_helpers import tiny_writer_fit
from metanet.train import cli_main


@pytest.mark.parametrize("flags, needles", [
    # a config copied from a GPU machine: "No supported gpu backend found!"
    (["--trainer.accelerator=gpu"], ["--trainer.accelerator=gpu", "gpu backend", "--trainer.accelerator=cpu"]),
    (["--trainer.max_time=1h"], ["--trainer:", "Timer(duration='1h')", "DD:HH:MM:SS"]),
    (["--trainer.gradient_clip_algorithm=l2"], ["--trainer:", "gradient_clip_algorithm", "'value', 'norm'"]),
    # ZeroDivisionError once training started
    (["--trainer.check_val_every_n_epoch=0"], ["--trainer.check_val_every_n_epoch=0", ">= 1", "null"]),
    (["--trainer.accumulate_grad_batches=0"], ["--trainer.accumulate_grad_batches=0", ">= 1"]),
    (["--seed_everything=-1"], ["--seed_everything=-1", "0 to 4294967295", "true"]),
    # ValueError / TypeError / ModuleNotFoundError of the Trainer's own checks
    (["--trainer.strategy=foo"], ["--trainer:", "strategy='foo'"]),
    (["--trainer.num_nodes=0"], ["--trainer:", "num_nodes", "positive integer"]),
    (["--trainer.devices=-2"], ["--trainer:", "devices", "int > 0"]),
    (["--trainer.accelerator=tpu"], ["--trainer:", "torch_xla"]),
    # validation every 5 steps of an epoch of 2 (checked by Lightning once the data is loaded)
    (["--trainer.val_check_interval=5"], ["--trainer.val_check_interval=5", "2 training batches", "at most 2",
                                          "--trainer.check_val_every_n_epoch=null"]),
])
def test_a_trainer_option_lightning_refuses_is_one_error_line(tmp_path, capsys, flags, needles):
    assert cli_main(tiny_writer_fit(tmp_path, *flags, logger=False)) == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("INFO: ")]
    assert len(err) == 1 and err[0].startswith("metanet: error: "), err
    for n in needles:
        assert n in err[0], (n, err[0])
    assert not (tmp_path / "writer.safetensors").exists()


def test_the_valid_spellings_still_run(tmp_path):
    # a random seed, and validation every 3 batches of the whole fit (longer than an epoch of 2)
    assert cli_main(tiny_writer_fit(tmp_path, "--seed_everything=true", "--trainer.val_check_interval=3",
                                    "--trainer.check_val_every_n_epoch=null", max_steps=3, logger=False)) == 0
    assert (tmp_path / "writer.safetensors").is_file()
