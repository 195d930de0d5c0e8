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
    except Exception as e:  # noqa: BLE001 - only a MetanetError (maybe wrapped by jsonargparse) is handled here
        cause = _metanet_cause(e)
        if debug or cause is None:
            raise
        print(f"metanet: error: {cause}", file=sys.stderr)
        return 2
    return 0


def _metanet_cause(e: BaseException) -> BaseException | None:
    """``e`` if it is a MetanetError, else the first one in its cause/context chain: jsonargparse re-raises an
    error of a class's ``__init__`` (e.g. an unknown writer option) as its own ``ValueError``."""
    from metanet.errors import MetanetError

    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, MetanetError):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None
