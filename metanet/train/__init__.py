"""``metanet train ...`` / ``python -m metanet.train ...``: LightningCLI over metanet's Lightning modules.

The model and data classes are chosen in the YAML config (``model.class_path``, ``data.class_path``), so one entry
point serves the reader, the writer and the verification loop: ``metanet train fit -c train/writer.yaml``.
"""

from __future__ import annotations

from typing import Sequence

__all__ = ["cli_main"]


def cli_main(args: Sequence[str] | None = None) -> int:
    import lightning as L
    from lightning.pytorch.cli import LightningCLI

    LightningCLI(
        L.LightningModule,
        L.LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        args=list(args) if args is not None else None,
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
    )
    return 0
