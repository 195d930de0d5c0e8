"""Checks shared by the reader, writer and loop Lightning stages' tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import lightning as L
import pytest


def check_smoke_run_keeps_the_export(tmp_path: Path, make: Callable[[str], tuple[L.LightningModule, Any]],
                                     kind: str) -> Path:
    """A ``fast_dev_run`` must not overwrite an earlier run's real export (Lightning writes no checkpoints or logs
    then, and the export hook used to replace the file with a one-step model); a real fit still exports.

    Args:
        make: ``export path -> (module, datamodule)``, the smallest fit of the stage.
        kind: the file's stem and the stage's module (``"writer"`` -> ``WriterModule``).

    Returns:
        The path the real fit exported to, for the caller to load.
    """
    export = tmp_path / f"{kind}.safetensors"
    export.write_bytes(b"an earlier run's real export")
    module, data = make(str(export))
    t = L.Trainer(fast_dev_run=True, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, default_root_dir=str(tmp_path))
    with pytest.warns(UserWarning, match=rf"fast_dev_run: the trained {kind.capitalize()}Module was not exported to "
                                         rf".*{kind}\.safetensors \(a smoke-test run writes no files"):
        t.fit(module, data)
    assert t.global_step == 1
    assert export.read_bytes() == b"an earlier run's real export"
    fitted = tmp_path / "fitted.safetensors"
    module, data = make(str(fitted))
    L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              enable_checkpointing=False, limit_val_batches=0, num_sanity_val_steps=0,
              default_root_dir=str(tmp_path)).fit(module, data)
    assert fitted.is_file()
    return fitted
