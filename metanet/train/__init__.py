"""``metanet train ...`` / ``python -m metanet.train ...``: LightningCLI over metanet's Lightning modules.

The model and data classes are chosen in the YAML config (``model.class_path``, ``data.class_path``), so one entry
point serves the reader, the writer and the verification loop: ``metanet train fit -c train/writer.yaml``.
A user mistake found while the run is set up (a zoo directory that is not a zoo, an unknown task: a
:class:`~metanet.errors.MetanetError`) is one error line and exit code 2, as everywhere in the ``metanet`` CLI;
``--debug`` before ``train`` shows the traceback.
"""

from __future__ import annotations

import sys
import warnings
from typing import Sequence

__all__ = ["cli_main"]


def cli_main(args: Sequence[str] | None = None, debug: bool = False) -> int:
    import lightning as L
    from lightning.pytorch.cli import LightningCLI

    from metanet.errors import MetanetError

    # `metanet train ARGS` passes ARGS while sys.argv still holds them (DDP re-launches its workers from sys.argv,
    # so it stays as it is): LightningCLI's warning about that is noise here
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
    try:
        LightningCLI(
            L.LightningModule,
            L.LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=list(args) if args is not None else None,
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            parser_kwargs={"prog": "metanet train"},
        )
    except MetanetError as e:
        if debug:
            raise
        print(f"metanet: error: {e}", file=sys.stderr)
        return 2
    return 0
