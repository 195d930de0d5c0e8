"""``metanet train validate|test|predict --ckpt_path=last`` with no earlier run: one error line for each of the three
(Lightning warned and scored the untrained model, exit 0); only a fit may start without a last checkpoint.
In-process: the resolution of ``last`` on a Trainer with no logger and no checkpoint, no run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import lightning as L
import pytest

from metanet.errors import ConfigError
from metanet.train import _cli_class


def _resolve(stage: str, root: Path) -> dict:
    trainer = L.Trainer(logger=False, default_root_dir=str(root), enable_progress_bar=False,
                        enable_model_summary=False)
    cfg = {"ckpt_path": "last"}
    _cli_class()._resolve_last(SimpleNamespace(subcommand=stage, config_init={stage: cfg}, trainer=trainer))
    return cfg


@pytest.mark.parametrize("stage", ["validate", "test", "predict"])
def test_a_stage_that_scores_needs_a_last_checkpoint(stage: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=rf"^--ckpt_path last: no last checkpoint to {stage} \(no last\.ckpt in "):
        _resolve(stage, tmp_path)


def test_a_fit_may_start_without_one(tmp_path: Path) -> None:
    assert _resolve("fit", tmp_path) == {"ckpt_path": "last"}  # left to Lightning: it starts from scratch
