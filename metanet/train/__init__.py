"""``metanet train ...`` / ``python -m metanet.train ...``: LightningCLI over metanet's Lightning modules.

The model and data classes are chosen in the YAML config (``model.class_path``, ``data.class_path``), so one entry
point serves the reader, the writer and the verification loop: ``metanet train fit -c train/writer.yaml``.
A user mistake found while the run is set up (a zoo directory that is not a zoo, an unknown task: a
:class:`~metanet.errors.MetanetError`) is one error line and exit code 2, as everywhere in the ``metanet`` CLI, and
so is a bad flag or value (jsonargparse's usage error); ``--debug`` before ``train`` shows the traceback (and
jsonargparse's full usage error). ``--ckpt_path=last`` resumes from the ``last.ckpt`` of the latest
earlier run (the logger's newest ``version_N`` that holds one); a checkpoint brings its own model options, except a
``--model.export`` given on the command line or in a ``-c`` file of one's own (after the stage's), and a checkpoint
of another stage's module than the config's is one error line naming the config to use.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Iterator, NoReturn, Sequence

__all__ = ["cli_main"]


def cli_main(args: Sequence[str] | None = None, debug: bool = False) -> int:
    """Run ``metanet train ARGS...`` (``args``: the arguments after ``train``; None: ``sys.argv[1:]``) and return
    the exit code: 0 done, 2 a user mistake or a path the file system refuses (one ``metanet: error:`` line on
    stderr; with ``debug`` the exception is raised instead), 143 terminated (SIGTERM; the checkpoints saved so far
    are kept). A bad flag or value is jsonargparse's usage error (``SystemExit`` 2). The warning filters it sets hold
    for this call only (it may run inside a user's process)."""
    with warnings.catch_warnings():
        return _run(args, debug)


def _run(args: Sequence[str] | None, debug: bool) -> int:
    import lightning as L
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    # `metanet train ARGS` passes ARGS while sys.argv still holds them (DDP re-launches its workers from sys.argv,
    # so it stays as it is): LightningCLI's warning about that is noise here
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
    # Lightning's warnings that hold for no stage and that no option turns off: the writer's and loop's own
    # transfer_batch_to_device is meant (their batches hold a frozen Arch); the writer's stream takes no workers (and
    # splits its episodes among any it got); LeafSpec is Lightning's own use of a torch API torch deprecated
    warnings.filterwarnings("ignore", message="You have overridden `transfer_batch_to_device` in `LightningModule`")
    warnings.filterwarnings("ignore", message="Your `IterableDataset` has `__len__` defined")
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
    # jsonargparse (>= 4.49) deprecated calls Lightning's own LightningCLI makes (add_instantiator,
    # instantiate_classes, dump/save's skip_none), with the header it puts before its first deprecation: only those
    # attributed to Lightning's cli.py, so one about the user's own config still shows
    warnings.filterwarnings("ignore", message=r"\s*(``ArgumentParser\.add_instantiator`` was deprecated|``instantiate_"
                            r"classes`` was deprecated|skip_none parameter was deprecated|By default only one "
                            r"JsonargparseDeprecationWarning)", category=DeprecationWarning,
                            module=r"lightning\.pytorch\.cli\Z")
    try:
        _check_configs(list(args) if args is not None else sys.argv[1:])
        _cli_class()(
            L.LightningModule,
            L.LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=list(args) if args is not None else None,
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            parser_kwargs={"prog": "metanet train"},
            # --debug keeps jsonargparse's own error: the whole usage, then every subtype it tried
            **({} if debug else {"parser_class": _parser_class()}),
        )
    except SIGTERMException:
        # Lightning ends a fit at the end of the batch a SIGTERM (kill, timeout, Slurm) arrived in, with a SystemExit
        # of code None: the command exited 0, as if the run had finished (its export was never written)
        from lightning.pytorch.utilities.rank_zero import rank_zero_only

        if rank_zero_only.rank == 0:
            print("metanet: terminated (SIGTERM); the checkpoints saved so far are kept (resume from the last one "
                  "with --ckpt_path=last)", file=sys.stderr)
        return 143
    except Exception as e:  # noqa: BLE001 - only a MetanetError (maybe wrapped by jsonargparse) is handled here
        cause = _metanet_cause(e)
        if cause is None and isinstance(e, OSError):  # a full disk or read-only folder for the logs or the export
            from metanet.cli import os_error_line

            cause = os_error_line(e)
        if debug or cause is None:
            raise
        from lightning.pytorch.utilities.rank_zero import rank_zero_only

        # under DDP every process meets a setup check (e.g. model.export) alike: one line, from rank 0 (the process
        # rank: the launcher's LOCAL_RANK of a worker it started); the others exit with the same code, unprinted
        if rank_zero_only.rank == 0:
            print(f"metanet: error: {cause}", file=sys.stderr)
        return 2
    return 0


@functools.cache
def _parser_class() -> type:
    # one class per process: jsonargparse caches the parsers of the model and trainer classes keyed by the parser's
    # class and never drops them, so a class made per call added ~9 parsers to that cache on every `metanet train`
    from lightning.pytorch.cli import LightningArgumentParser

    class MetanetArgumentParser(LightningArgumentParser):
        """A usage error (a bad flag or value) is one line: the problem, and where the options are listed.
        jsonargparse printed the usage of the whole subcommand (~50 lines) and a multi-line error listing every
        Union subtype it tried; ``--help`` is unchanged."""

        def error(self, message: str, ex: Exception | None = None) -> NoReturn:  # type: ignore[override]
            # a parse attempt jsonargparse catches itself (exit_on_error off), or its debug mode: its own error
            if not self.exit_on_error or os.environ.get("JSONARGPARSE_DEBUG"):
                super().error(message, ex)
            self._logger.error(message)
            parser = getattr(ex, "subcommand_parser", None) or self  # the error of `fit`'s options is fit's
            prog = parser.prog.replace(" [options]", "")
            # one line, as every user mistake of the metanet CLI
            # print, not sys.stderr.write: stderr is None when the command was started with it closed (`2>&-`)
            print(f"{prog}: error: {_short_message(message)} (options: '{prog} --help')", file=sys.stderr)
            self.exit(2)

    return MetanetArgumentParser


def _short_message(message: str) -> str:
    """One line from jsonargparse's error message: the option (``--model.init_args.hidden``), what was expected
    and what was given, without the Union subtypes it tried, ``NoneType`` and ``<class '...'>`` wrappers."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return re.sub(r"^argument (--\S+|subcommand): ", r"\1: ", lines[0]) if lines else message
    keys: list[str] = []
    cls = given = None
    types: list[str] = []
    details: list[str] = []
    for line in lines:
        line = line.removeprefix("- ")
        if m := re.fullmatch(r'Parser key "(.+)":', line):
            keys.append(m[1])
        elif m := re.fullmatch(r"Problem with given class_path '(.+)':", line):
            cls = cls or m[1]
        elif m := re.fullmatch(r"Given value: (.*)", line):
            if not m[1].startswith("NestedArg("):  # a nested value: its "Got value" line gave it
                given = m[1]
        # a type: one token (brackets aside), not a sentence such as "Expected a path but X either not accessible"
        elif m := re.fullmatch(r"Expected a (<class '[\w.]+'>|[\w.]+(?:\[.*\])?)(?:\. Got value: (.*))?", line):
            if m[2] is not None:
                given = m[2]
            kind = _type_name(m[1])
            if kind != "None" and kind not in types:
                types.append(kind)
        elif not line.startswith(("Does not validate against", "Subtypes:", "Errors:", "Given value type:")):
            detail = line[:1].lower() + line[1:]
            if detail not in details:
                details.append(detail)
    key = keys[0] if keys else ""
    if cls and len(keys) > 1:
        key += ".init_args." + ".".join(keys[1:])
    parts = list(details)
    if types and not details:  # "expected a path ..." details already say what a string value must be
        if len(types) > 1 and all(t.startswith("one of ") for t in types):  # several Literals: one list
            types = ["one of " + ", ".join(t.removeprefix("one of ") for t in types)]
        parts.append(f"expected {' or '.join(types)}" + (f", got {given!r}" if given is not None else ""))
    text = "; ".join(parts) or lines[-1]
    if cls:
        text += f" ({cls})"
    return f"--{key}: {text}" if key else text


def _type_name(text: str) -> str:
    """``<class 'int'>`` -> ``int``, ``typing.Literal['a', 'b']`` -> ``one of 'a', 'b'``."""
    text = re.sub(r"<class '(?:builtins\.)?([\w.]+)'>", r"\1", text)
    text = re.sub(r"typing\.Literal\[(.*)\]", r"one of \1", text)
    return "None" if text == "NoneType" else text


def _check_configs(args: Sequence[str]) -> None:
    """A ConfigError (one error line) for a ``-c``/``--config`` YAML file that does not exist. jsonargparse printed
    its whole usage (about 90 lines) before 'File does not exist'; and ``train/*.yaml`` is a folder of the metanet
    repository, absent wherever the package was installed with ``pip install .`` or from a wheel."""
    from metanet.errors import ConfigError

    for i, a in enumerate(args):
        if a in ("-c", "--config") and i + 1 < len(args):
            value = args[i + 1]
        elif a.startswith("--config="):
            value = a.split("=", 1)[1]
        else:
            continue
        # a config may also be given inline as YAML/JSON text: only a value naming a .yaml/.yml/.json file is checked
        # ~ expanded as jsonargparse expands it: --config=~/x.yaml (no shell expands it after "=") was "not found"
        if "\n" in value or not value.lower().endswith((".yaml", ".yml", ".json")) or Path(value).expanduser().exists():
            continue
        hint = ""
        if Path(value).parts[:1] == ("train",):
            hint = ("; train/*.yaml are files of the metanet repository, not installed with the package: run "
                    "'metanet train' from a checkout of the repository, or give the path to a copy of the config")
        raise ConfigError(f"config file {value} not found (in {Path.cwd()}){hint}")


def _cli_class() -> type:
    from lightning.pytorch.cli import LightningCLI

    class MetanetCLI(LightningCLI):
        """LightningCLI whose ``--ckpt_path=last`` finds the last checkpoint of the latest earlier run, with its model
        hyperparameters as a path's (none to validate or test is one error line, and so is any other ``--ckpt_path``
        that is not a checkpoint file), whose ``test``/``predict`` on a module without that stage is one error line,
        whose ``--trainer.fast_dev_run`` writes no checkpoint, and which leaves the config's LearningRateMonitor out
        when there is no logger (``--trainer.logger=false``) and its ModelCheckpoint callbacks when checkpointing is
        off (``--trainer.enable_checkpointing=false``). A
        ``limit_*_batches`` / ``overfit_batches`` fraction that leaves a loader no batch is one error line, and so are
        the Trainer's own refusals of its options, a ``val_check_interval`` longer than an epoch and a seed numpy
        refuses."""

        def _resolve_last(self) -> None:
            cfg = self.config_init[self.subcommand]
            if cfg.get("ckpt_path") != "last":
                return
            if (found := _last_checkpoint(self.trainer)) is not None:
                cfg["ckpt_path"] = found
            elif self.subcommand != "fit" and _lightning_last(self.trainer) is None:
                # Lightning warned and scored the untrained model (exit 0); only a fit may start without one
                from metanet.errors import ConfigError

                raise ConfigError(f"--ckpt_path last: no last checkpoint to {self.subcommand} (no last.ckpt in "
                                  f"{_last_where(self.trainer)}); give a checkpoint file, e.g. runs/writer/version_0/"
                                  "checkpoints/last.ckpt, or run 'metanet train fit' first")

        def instantiate_classes(self) -> None:
            from lightning.fabric.utilities.seed import _collect_rng_states, _set_rng_states

            sub = self.subcommand
            last = bool(sub) and self.config[sub].get("ckpt_path") == "last"
            # the seeded random states the classes are made from: made again below, they start from the same ones as
            # with the file's path (a module initialised twice drew twice: its run went on from other random states)
            rng = _collect_rng_states(include_cuda=False) if last else None
            _import_reward(self.config[sub].get("model") if sub else self.config.get("model"))
            super().instantiate_classes()
            # LightningCLI takes a --ckpt_path file's model hyperparameters (in place of the config's) while parsing,
            # before the trainer that finds `last` exists: with `last` the config's were kept, and a config of other
            # sizes than the checkpoint's was a "size mismatch" traceback where the same file's path ran. Now `last`
            # is found here and its hyperparameters taken as a path's are (the classes made again if they differ)
            if not last:
                return
            # Lightning's own search where ours leaves it to it (no logger, a ModelCheckpoint dirpath): its file had
            # the config's sizes too
            found = _last_checkpoint(self.trainer) or _lightning_last(self.trainer)
            if found is None:
                return
            model = copy.deepcopy(self.config[sub].get("model"))
            self.config[sub]["ckpt_path"] = found
            self._parse_ckpt_path()
            self.config[sub]["ckpt_path"] = "last"  # saved as given (config.yaml): run again, it takes the newest
            if self.config[sub].get("model") != model:
                self.__dict__.pop("config_dump", None)  # LightningCLI's dump of the config, the hparams.yaml of a run
                _set_rng_states(rng)
                _import_reward(self.config[sub].get("model"))
                # the model and data made again, not the trainer: its options are not the checkpoint's, and a second
                # Trainer printed its startup lines ("GPU available: ...", the logger tip) a second time
                self.config_init = self.parser.instantiate_classes(self.config)
                self.datamodule = self._get(self.config_init, "data")
                self.model = self._get(self.config_init, "model")
                self._add_configure_optimizers_method_to_model(sub)
                from lightning.pytorch.cli import SaveConfigCallback

                for c in self.trainer.callbacks:  # config.yaml: the checkpoint's model options, as a path's
                    if isinstance(c, SaveConfigCallback):
                        c.config = self.config.get(sub, self.config)

        def parse_arguments(self, parser: Any, args: Any) -> None:
            # the command line's own options, told from the -c files' (a checkpoint's model options replace both)
            self._metanet_args = [a for a in (sys.argv[1:] if args is None else args) if isinstance(a, str)] \
                if args is None or isinstance(args, (list, tuple)) else []
            super().parse_arguments(parser, args)

        def _parse_ckpt_path(self) -> None:
            # LightningCLI torch.loads a --ckpt_path file while parsing (to take its hyperparameters): a file that
            # is not a checkpoint was an UnpicklingError/KeyError/EOFError/SafetensorError traceback
            sub = self.config.get("subcommand")
            path = self.config[sub].get("ckpt_path") if sub else None
            if isinstance(path, str) and path.startswith("~"):  # as a YAML value or quoted: "not found"
                path = self.config[sub]["ckpt_path"] = os.path.expanduser(path)
            _check_ckpt_path(path)
            from metanet.errors import ConfigError

            given = plain = None
            try:
                if sub and path and Path(path).is_file():  # where LightningCLI loads it
                    hparams = _check_ckpt_classes(path, self.config[sub].get("model"))
                    given = copy.deepcopy(self.config[sub].get("model"))
                    plain = _plain_ckpt_model(path, hparams, given)
                if plain is not None:  # as LightningCLI parses a checkpoint that names its class
                    self.config = self.parser.parse_object({sub: {"model": plain}}, self.config)
                else:
                    super()._parse_ckpt_path()
            except ConfigError:
                raise
            except Exception as e:  # noqa: BLE001 - all from torch.load: parse errors of jsonargparse are SystemExit
                detail = (str(e).strip().splitlines() or [""])[0].split(". ")[0][:160]  # its first sentence
                raise ConfigError(f"--ckpt_path {path}: not a readable Lightning checkpoint ({type(e).__name__}"
                                  f"{': ' + detail if detail else ''}); give a .ckpt file written by "
                                  "'metanet train fit', e.g. runs/writer/version_0/checkpoints/last.ckpt") from e
            if given is not None:
                _keep_command_line_export(self.config[sub], given, getattr(self, "_metanet_args", []))

        def _before(self) -> None:
            _check_stage(self.subcommand, self.model, self.datamodule)
            if type(self.model).__module__.startswith("metanet."):  # before the data (a zoo's graphs) is loaded
                from metanet.train.stage import check_precision

                check_precision(self.model, self.trainer)
            self._resolve_last()
            _check_ckpt_path(self.config_init[self.subcommand].get("ckpt_path"))
            if self.trainer.fast_dev_run:
                # Lightning's ModelCheckpoint.on_train_end writes last.ckpt despite fast_dev_run (which is to write
                # no files): with the logger off, into ./checkpoints of the working directory
                for c in self.trainer.checkpoint_callbacks:
                    c.save_last = False
            if not self.trainer.loggers:  # --trainer.logger=false: the config's LearningRateMonitor would raise
                from lightning.pytorch.callbacks import LearningRateMonitor

                self.trainer.callbacks[:] = [c for c in self.trainer.callbacks
                                             if not isinstance(c, LearningRateMonitor)]

        before_fit = before_validate = before_test = before_predict = _before

        def _run_subcommand(self, subcommand: str) -> None:
            from lightning.fabric.utilities.exceptions import MisconfigurationException

            try:
                if subcommand == "fit":
                    super()._run_subcommand(subcommand)
                else:
                    with warnings.catch_warnings():
                        # ModelCheckpoint's "dirpath has changed ... won't be reloaded" (a checkpoint of an earlier
                        # run): its best-k state matters to a fit only; validate, test and predict save no checkpoint
                        warnings.filterwarnings("ignore", message="The dirpath has changed from")
                        super()._run_subcommand(subcommand)
            except (MisconfigurationException, ValueError) as e:
                # a fractional limit_*_batches that leaves no batch, a val_check_interval longer than an epoch:
                # Lightning checks them once the loaders exist (as the run is set up, before any step), as a traceback
                error = _limit_error(e, self.trainer) or _interval_error(e)
                if error is None:
                    raise
                raise error from e

        def _set_seed(self) -> None:
            # numpy's range, checked before Lightning's seed_everything raised a ValueError traceback
            seed = self._get(self.config, "seed_everything")
            if not isinstance(seed, bool) and isinstance(seed, int) and not 0 <= seed <= 2**32 - 1:
                from metanet.errors import ConfigError

                raise ConfigError(f"--seed_everything={seed}: a seed is a whole number from 0 to {2**32 - 1}, or "
                                  "true (a random one) or false (none)")
            super()._set_seed()

        def _instantiate_trainer(self, config: dict[str, Any], callbacks: list) -> Any:
            # --trainer.enable_checkpointing=false: the config's ModelCheckpoint callbacks are left out (as the
            # LearningRateMonitor without a logger); Lightning's Trainer raised a MisconfigurationException
            # traceback ("found `ModelCheckpoint` in callbacks list"), and the config offers no way to remove them
            given = config.get("callbacks")
            if config.get("enable_checkpointing") is False and given is not None:
                from lightning.pytorch.callbacks import ModelCheckpoint

                # a config may give one callback, not a list (LightningCLI allows it): a lone ModelCheckpoint raised
                given = given if isinstance(given, list) else [given]
                config["callbacks"] = [c for c in given if not isinstance(c, ModelCheckpoint)]
            if config.get("barebones"):
                # barebones turns logging and checkpointing off, so the config's logger, log_every_n_steps and
                # ModelCheckpoint callbacks are left out as above (its LearningRateMonitor by _before): Lightning's
                # Trainer raised a ValueError traceback for each, and the config offers no way to remove them
                from lightning.pytorch.callbacks import ModelCheckpoint

                config["logger"], config["log_every_n_steps"] = False, 0
                given = config.get("callbacks")
                if given is not None:
                    given = given if isinstance(given, list) else [given]
                    config["callbacks"] = [c for c in given if not isinstance(c, ModelCheckpoint)]
            from lightning.fabric.utilities.exceptions import MisconfigurationException

            from metanet.errors import ConfigError

            for option in ("accumulate_grad_batches", "check_val_every_n_epoch"):  # Lightning divides by them
                value = config.get(option)
                if isinstance(value, int) and not isinstance(value, bool) and value < 1:
                    raise ConfigError(f"--trainer.{option}={value}: must be a whole number >= 1"
                                      + (" (or null: validate by val_check_interval batches of the whole fit)"
                                         if option == "check_val_every_n_epoch" else ""))
            try:
                return super()._instantiate_trainer(config, callbacks)
            except (MisconfigurationException, ValueError, TypeError, ModuleNotFoundError) as e:
                # the Trainer's own check of its options (an accelerator this machine lacks, a max_time that is no
                # duration, a strategy name it does not know, num_nodes=0, devices=-2, the package an accelerator
                # needs): a traceback before any data was loaded; or another option barebones turns off, given too
                error = _barebones_error(e) if isinstance(e, ValueError) else None
                raise (error or ConfigError(_trainer_error(e, config))) from e

    return MetanetCLI


# what `metanet train STAGE` needs besides the trainer; Lightning's own check is a MisconfigurationException traceback
_STAGES = {"test": ("test_step", "test_dataloader"), "predict": ("predict_step", "predict_dataloader")}
_INSTEAD = {"ReaderModule": "metanet read", "WriterModule": "metanet generate", "LoopModule": "metanet improve"}


# the LightningModules whose checkpoints `metanet train` reads (with any the config names)
_OUR_MODULES = ("metanet.reader.lightning.ReaderModule", "metanet.writer.lightning.WriterModule",
                "metanet.loop.lightning.LoopModule")


def _class_paths(obj: Any) -> Iterator[Any]:
    """Every ``class_path``/``_class_path`` value in nested dicts and lists (or a jsonargparse Namespace)."""
    if hasattr(obj, "as_dict"):
        obj = obj.as_dict()
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("class_path", "_class_path"):
                yield v
            yield from _class_paths(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _class_paths(v)


def _check_ckpt_classes(path: str | os.PathLike, model: Any) -> Any:
    """A ConfigError for a ``--ckpt_path`` file whose hyperparameters name a class that is not metanet's nor the
    config's: LightningCLI imports the module of its ``_class_path`` while parsing, so a stranger's file ran the
    top-level code of any installed module (``this.Nothing`` printed the Zen of Python). Returns the file's
    hyperparameters (None if it has none)."""
    import torch

    from metanet.checkpoints import _compressed
    from metanet.errors import ConfigError

    # before torch.load, which inflates compressed records in memory (a crafted 195 KB file took 397 MB)
    if packed := _compressed(Path(path)):
        raise ConfigError(f"--ckpt_path {path}: {packed}, which Lightning never writes; give a .ckpt file written by "
                          "'metanet train fit'")
    ckpt = torch.load(path, weights_only=True, map_location="cpu")
    hparams = ckpt.get("hyper_parameters") if isinstance(ckpt, dict) else None
    allowed = {*_OUR_MODULES, *(c for c in _class_paths(model) if isinstance(c, str))}
    for c in _class_paths(hparams):
        if not isinstance(c, str) or c not in allowed:
            raise ConfigError(f"--ckpt_path {path}: its hyperparameters name the class {str(c)[:160]!r}, which is "
                              f"not a metanet module nor the config's (expected one of {', '.join(sorted(allowed))});"
                              " give a .ckpt file written by 'metanet train fit' with this config")
    _check_ckpt_module(path, hparams, model)
    _check_plain_stage(path, ckpt, model)
    return hparams


def _check_plain_stage(path: str | os.PathLike, ckpt: Any, model: Any) -> None:
    """A ConfigError for a plain-Lightning checkpoint (its hyperparameters name no class) of a WriterModule given
    with a LoopModule config, or of a LoopModule with a WriterModule config, whose hyperparameters both modules take
    (``{hidden, message}``): their weights are alike, so it resumed into the other stage silently. A LoopModule's
    checkpoint is the one that holds ``writer_config`` (its on_save_checkpoint)."""
    hparams = ckpt.get("hyper_parameters") if isinstance(ckpt, dict) else None
    given = _config_class_path(model)
    cls = _load_class(given) if isinstance(given, str) else None
    if not isinstance(cls, type) or not isinstance(hparams, dict) or "_class_path" in hparams:
        return
    from metanet.loop.lightning import LoopModule
    from metanet.writer.lightning import WriterModule

    # options only one of them takes tell it (and _plain_ckpt_model names those the config's does not)
    if not set(hparams) - {"_instantiator"} <= set(_init_names(WriterModule)) & set(_init_names(LoopModule)):
        return
    if issubclass(cls, WriterModule) and "writer_config" in ckpt:
        saved, own, holds = "LoopModule", "train/loop.yaml", "it holds"
    elif issubclass(cls, LoopModule) and "writer_config" not in ckpt:
        saved, own, holds = "WriterModule", "train/writer.yaml", "it lacks"
    else:
        return
    from metanet.errors import ConfigError

    raise ConfigError(f"--ckpt_path {path}: a checkpoint of a {saved} (it names no class: not written by 'metanet "
                      f"train'; {holds} the writer_config every LoopModule checkpoint holds), but the config's model "
                      f"is {given.rsplit('.', 1)[-1]}; give a checkpoint of a run of this config, or this checkpoint "
                      f"with the config it was trained with ({own})")


def _plain_ckpt_model(path: str | os.PathLike, hparams: Any, model: Any) -> dict[str, Any] | None:
    """The config's model class with a checkpoint's hyperparameters as its options, for a checkpoint written by
    plain Lightning (``L.Trainer().fit(WriterModule(hidden=8))``: its hyperparameters name no ``_class_path``);
    None for LightningCLI's own checkpoints and one without hyperparameters. LightningCLI parsed them as options of
    LightningModule itself: "--model: option 'hidden' is not accepted (lightning.LightningModule)". Without a class
    name, the check that the checkpoint is of the config's module is that its hyperparameters are the class's
    options: a ConfigError names the ones that are not."""
    import inspect

    from metanet.errors import ConfigError

    if not isinstance(hparams, dict) or "_class_path" in hparams:
        return None
    hparams = {k: v for k, v in hparams.items() if k != "_instantiator"}  # LightningCLI drops it too
    given = _config_class_path(model)
    cls = _load_class(given) if isinstance(given, str) and hparams else None
    if not isinstance(cls, type):  # no hyperparameters, or no class in the config: LightningCLI's own handling
        return None
    signature = inspect.signature(cls)
    named = _init_names(signature)
    kwargs = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    # a subclass's plain checkpoint holds its bases' options too (Lightning saves the arguments of every __init__ in
    # the chain): what it gave its base, and gives again; it was refused for them. A **kwargs class takes them
    inherited = set() if kwargs else {n for b in cls.__mro__[1:] if "__init__" in vars(b)
                                      for n in _init_names(b.__init__)}
    extra = {k: v for k, v in hparams.items() if k not in named and k not in inherited}
    if extra and not kwargs:
        short = given.rsplit(".", 1)[-1]
        raise ConfigError(f"--ckpt_path {path}: a checkpoint whose hyperparameters "
                          f"{', '.join(map(repr, list(extra)[:8]))}{' ...' if len(extra) > 8 else ''} are not options "
                          f"of the config's model {short} (it names no class: not written by 'metanet train'); give "
                          f"a checkpoint of a {short}, or the config of the module it was trained with")
    plain = {"class_path": given, "init_args": {k: v for k, v in hparams.items() if k in named}}
    return {**plain, "dict_kwargs": extra} if extra else plain  # a **kwargs class: as LightningCLI gives them


def _init_names(init: Any) -> list[str]:
    """The names a signature (or a function's) takes by keyword; none for one ``inspect`` cannot read (a C init)."""
    import inspect

    try:
        params = (init if isinstance(init, inspect.Signature) else inspect.signature(init)).parameters
    except (TypeError, ValueError):
        return []
    return [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _check_ckpt_module(path: str | os.PathLike, hparams: Any, model: Any) -> None:
    """A ConfigError for a checkpoint of another LightningModule than the config's model (neither a subclass of the
    other). LightningCLI puts the checkpoint's class in place of the config's and keeps the config's data module: a
    loop checkpoint given with train/writer.yaml validated the loop on the writer's episodes (exit 0, numbers of
    nothing), a writer checkpoint given with train/reader.yaml was an AttributeError traceback."""
    from metanet.errors import ConfigError

    given = _config_class_path(model)
    saved = hparams.get("_class_path") if isinstance(hparams, dict) else None
    if not isinstance(given, str) or not isinstance(saved, str) or given == saved:
        return
    a, b = _load_class(given), _load_class(saved)
    if not (isinstance(a, type) and isinstance(b, type)) or issubclass(a, b) or issubclass(b, a):
        return
    run_config = Path(path).parent.parent / "config.yaml"  # the run's own, beside its checkpoints/ folder
    short = saved.rsplit(".", 1)[-1]
    own = str(run_config) if Path(path).parent.name == "checkpoints" and run_config.is_file() else {
        "ReaderModule": "train/reader.yaml", "WriterModule": "train/writer.yaml", "LoopModule": "train/loop.yaml"
    }.get(short)
    raise ConfigError(f"--ckpt_path {path}: a checkpoint of {short}, but the config's model is "
                      f"{given.rsplit('.', 1)[-1]}; give a checkpoint of a run of this config, or this checkpoint "
                      f"with the config it was trained with{f' ({own})' if own else ''}")


def _config_class_path(model: Any) -> Any:
    """The ``class_path`` the config's model section names (a jsonargparse Namespace or a dict), None without one."""
    if hasattr(model, "as_dict"):
        model = model.as_dict()
    return model.get("class_path") if isinstance(model, dict) else None


def _load_class(name: str) -> Any:
    """The class a ``class_path`` names, None if it cannot be imported (a config's was parsed, a checkpoint's
    allowlisted: both are)."""
    import importlib

    module, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        return None


def _import_reward(model: Any) -> None:
    """Import the module of a Reward class of one's own that the config's model names (``reward: {class_path: ...,
    init_args: ...}``): LoopModule imports none itself, as a checkpoint's could be anyone's; the config is the user's
    (and a --ckpt_path file's classes were checked to be the config's, :func:`_check_ckpt_classes`)."""
    if hasattr(model, "as_dict"):
        model = model.as_dict()
    init = model.get("init_args") if isinstance(model, dict) else None
    if isinstance(init, dict) and isinstance(init.get("reward"), dict):
        from metanet.loop.lightning import import_reward_module

        import_reward_module(init["reward"])


def _check_stage(stage: str, model: Any, datamodule: Any) -> None:
    """A ConfigError (one error line) when the configured model or data module has no ``stage`` stage."""
    from lightning.pytorch.utilities.model_helpers import is_overridden

    if stage not in _STAGES:
        return
    step, loader = _STAGES[stage]
    has_step = is_overridden(step, model) or (stage == "predict" and is_overridden("forward", model))
    has_data = datamodule is None or is_overridden(loader, datamodule)
    if has_step and has_data:
        return
    from metanet.errors import ConfigError

    name = type(model).__name__
    lacks = name if not has_step else type(datamodule).__name__
    hint = f"; use 'metanet train validate' or '{_INSTEAD[name]}'" if name in _INSTEAD else ""
    raise ConfigError(f"'metanet train {stage}' is not supported by {lacks} (it has no {stage} stage){hint}")


def _command_line_model_keys(args: Sequence[str]) -> list[str]:
    """The model options ``args`` name (``--model.hidden=32``, ``--model.init_args.export PATH``, the keys of a YAML
    mapping ``--model='{init_args: {export: PATH}}'`` or ``--model.init_args='{export: PATH}'``), and those a ``-c``
    file after the first (the stage's config) sets (``-c train/reader.yaml -c mine.yaml``: the user's own), in order."""
    keys: list[str] = []
    # a -c before the subcommand (`metanet train -c all.yaml fit -c train/writer.yaml`) is the whole CLI's, read
    # before the stage's: counted, the stage's config was taken as one's own (its export kept, its options warned of)
    configs = -1 if any(a in ("fit", "validate", "test", "predict") for a in args) else 0
    for i, a in enumerate(args):
        option, eq, value = a.partition("=")
        if a.startswith("-c") and not a.startswith("-c="):  # argparse's -cFILE
            option, eq, value = a[:2], "=" if len(a) > 2 else "", a[2:]
        if len(option) > 3 and "--config".startswith(option):  # an abbreviation argparse takes (--conf FILE)
            option = "--config"
        if configs < 0:  # the subcommand: the first of its names that is not a -c FILE's value
            prior = args[i - 1] if i else ""
            value_of_c = prior == "-c" or len(prior) > 3 and "--config".startswith(prior)
            configs = 0 if a in ("fit", "validate", "test", "predict") and not value_of_c else -1
            continue
        if option in ("-c", "--config"):
            # a file of one's own is as much the user's intent as the command line (its export was replaced)
            configs += 1
            found = _config_model_keys(value if eq else args[i + 1] if i + 1 < len(args) else "") if configs > 1 else []
        elif option in ("--model", "--model.init_args", "--model.dict_kwargs"):
            # a whole mapping of options typed there (its keys were missed: its export replaced by the checkpoint's)
            found = _yaml_keys(value if eq else args[i + 1] if i + 1 < len(args) else "", option == "--model")
        elif option.startswith("--model."):
            key = option[len("--model."):]
            for prefix in ("init_args.", "dict_kwargs."):
                key = key.removeprefix(prefix)
            found = [key]
        else:
            continue
        for key in found:
            key = key.split(".")[0]
            if key and key not in keys and key != "class_path":
                keys.append(key)
    return keys


def _config_model_keys(value: str) -> list[str]:
    """The model option names a ``-c`` config (a file, or YAML text) sets, at its top or under a subcommand's key."""
    import yaml

    try:
        path = Path(value).expanduser()
        config = yaml.safe_load(path.read_text() if "\n" not in value and path.is_file() else value)
    except (OSError, ValueError, yaml.YAMLError):  # jsonargparse parsed it already: left to its own errors
        return []
    config = _undotted(config)  # `model.init_args.export: PATH`, which jsonargparse reads as nested: it was missed
    sections = [config, *(config.get(s) for s in ("fit", "validate", "test", "predict"))] \
        if isinstance(config, dict) else []
    models = [s["model"] for s in sections if isinstance(s, dict) and isinstance(s.get("model"), dict)]
    return [k for m in models for k in _model_keys(m, True)]


def _undotted(value: Any) -> Any:
    """A YAML mapping with its dotted keys (``model.init_args.export: PATH``) nested, as jsonargparse reads them."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for k, v in value.items():
        head, _, rest = str(k).partition(".")
        v = _undotted({rest: v} if rest else v)
        out[head] = _undotted_merge(out[head], v) if isinstance(out.get(head), dict) and isinstance(v, dict) else v
    return out


def _undotted_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {**a, **{k: _undotted_merge(a[k], v) if isinstance(a.get(k), dict) and isinstance(v, dict) else v
                    for k, v in b.items()}}


def _yaml_keys(text: str, whole: bool) -> list[str]:
    """The option names of a model value typed as YAML (``whole``: ``--model``'s, with ``class_path``/``init_args``);
    none for a class name or a file path."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    return _model_keys(value, whole)


def _model_keys(value: Any, whole: bool) -> list[str]:
    """:func:`_yaml_keys` of a value already read from YAML (a ``-c`` file's model section)."""
    if not isinstance(value, dict):
        return []
    if not whole:
        return [str(k) for k in value]
    nested = [value[k] for k in ("init_args", "dict_kwargs") if isinstance(value.get(k), dict)]
    return [str(k) for k in value if k not in ("class_path", "init_args", "dict_kwargs")] + [
        str(k) for d in nested for k in d]


def _yaml_text(value: Any) -> str:
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _keep_command_line_export(cfg: Any, given: Any, args: Sequence[str]) -> None:
    """After LightningCLI took a ``--ckpt_path`` file's model hyperparameters over the parsed config (``cfg['model']``;
    ``given``: the model config before): a ``--model.export`` given on the command line is kept (an output path,
    not part of the checkpointed model: it was the earlier run's path, whose file the resumed run overwrote), and any
    other model option given there that the checkpoint's replaced is one warning line on stderr (the weights need the
    checkpoint's sizes), where it was replaced silently."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_only

    model = cfg.get("model")
    before, after = (getattr(m, "init_args", None) if m is not None else None for m in (given, model))
    if before is None or after is None:
        return
    was, now = getattr(given, "class_path", None), getattr(model, "class_path", None)
    mine, theirs = (_load_class(c) if isinstance(c, str) else None for c in (was, now))
    if isinstance(mine, type) and isinstance(theirs, type) and mine is not theirs and issubclass(mine, theirs) \
            and rank_zero_only.rank == 0:  # the config's own subclass: its code did not run, and nothing said so
        print(f"metanet: warning: --model.class_path {was} is replaced by the checkpoint's {now} (a checkpoint "
              "brings its own model options)", file=sys.stderr)
    # the options of a subclass and of its base too (_check_ckpt_module refused unrelated classes): a config's own
    # subclass of the checkpoint's class lost a typed --model.export, silently
    for key in _command_line_model_keys(args):
        if key not in before or key not in after or before[key] == after[key]:
            continue
        if key == "export":
            after[key] = before[key]
        elif rank_zero_only.rank == 0:
            print(f"metanet: warning: --model.{key} {_yaml_text(before[key])} is replaced by the checkpoint's "
                  f"{_yaml_text(after[key])} (a checkpoint brings its own model options)", file=sys.stderr)


# ckpt_path values Lightning resolves itself (not file paths)
_CKPT_KEYWORDS = ("last", "hpc", "registry")


def _check_ckpt_path(value: Any) -> None:
    """A ConfigError (one error line) for a local ``--ckpt_path`` that is not a file, and for ``best``: Lightning
    raised a FileNotFoundError (IsADirectoryError, ValueError) traceback once the run had been set up."""
    if value is None or not isinstance(value, (str, Path)):
        return
    text = str(value)
    from metanet.errors import ConfigError

    if not text.strip():  # was "--ckpt_path : a directory (in ...)": the working directory it resolved to
        raise ConfigError("--ckpt_path needs a path: a checkpoint file, e.g. runs/writer/version_0/checkpoints/"
                          "last.ckpt, or 'last' for the latest run's last.ckpt")

    if text == "best":  # the best checkpoint of a fit in this same process: the CLI runs one stage, so there is none
        raise ConfigError("--ckpt_path best: there is no best checkpoint before a fit in this run; give the checkpoint "
                          "file, e.g. runs/writer/version_0/checkpoints/epoch=5-step=600.ckpt, or 'last'")
    if text.lower().endswith(".safetensors") and Path(text).is_file():  # torch.load's UnpicklingError traceback
        raise ConfigError(f"--ckpt_path {text}: a metanet .safetensors file (an exported module), not a Lightning "
                          "checkpoint to resume from; give a .ckpt file, e.g. runs/writer/version_0/checkpoints/last.ckpt")
    if text in _CKPT_KEYWORDS or text.lower().startswith("registry") or "://" in text or Path(text).is_file():
        return
    what = "a directory" if Path(text).is_dir() else "not found"
    raise ConfigError(f"--ckpt_path {text}: {what} (in {Path.cwd()}); give a checkpoint file, e.g. "
                      "runs/writer/version_0/checkpoints/last.ckpt, or 'last' for the latest run's last.ckpt")


def _limit_error(e: Exception, trainer: Any) -> Exception | None:
    """A ConfigError for Lightning's "You requested to check 0.5 of the `train_dataloader` but 0.5 * 1 < 1"
    (a ``limit_*_batches`` or ``overfit_batches`` fraction of a loader too short for it), naming the option and the
    valid values; None for any other error."""
    m = re.match(r"You requested to check (\S+) of the `(\w+)_dataloader` but \S+ \* (\d+) < 1", str(e))
    if m is None:
        return None
    from metanet.errors import ConfigError

    limit, prefix, n = m[1], m[2], int(m[3])
    # overfit_batches, when on, is Lightning's limit of the train and val loaders both
    overfit = prefix in ("train", "val") and getattr(trainer, "overfit_batches", 0)
    option = "overfit_batches" if overfit else f"limit_{prefix}_batches"
    # the smallest short decimal that still selects a batch (int(n * fraction) >= 1, as Lightning counts)
    k = len(str(n)) + 1
    least = math.ceil(10**k / n) / 10**k
    while int(n * least) < 1:
        least += 10**-k
    valid = "1.0 (all of it)" if n == 1 else f"a fraction from {least:g} to 1.0"
    return ConfigError(f"--trainer.{option}={limit}: the {prefix} loader has {n} batch{'es' if n != 1 else ''}, "
                       f"and {limit} of it is less than one batch; give {valid} or a whole number of "
                       f"batches such as --trainer.{option}=1")


def _trainer_error(e: Exception, config: dict[str, Any]) -> str:
    """One line from the Trainer's own refusal of its options: its message's first line, with the accelerator when
    the message does not name it ("No supported gpu backend found!")."""
    text = (str(e).strip().splitlines() or [type(e).__name__])[0].strip()
    if "backend" in text and "accelerator" not in text:
        text = f"--trainer.accelerator={config.get('accelerator')}: {text[:1].lower() + text[1:]}"
        text += " (valid on this machine: --trainer.accelerator=cpu or auto)"
    return text if text.startswith("--") else f"--trainer: {text}"


def _interval_error(e: Exception) -> Exception | None:
    """A ConfigError for Lightning's "`val_check_interval` (500) must be less than or equal to the number of the
    training batches (100)", naming the valid values; None for any other error."""
    m = re.match(r"\s*`val_check_interval` \((\d+)\) must be less than or equal to the number of the training "
                 r"batches \((\d+)\)", str(e))
    if m is None:
        return None
    from metanet.errors import ConfigError

    return ConfigError(f"--trainer.val_check_interval={m[1]}: an epoch has {m[2]} training batches; give at most "
                       f"{m[2]}, a fraction of the epoch such as 0.5, or --trainer.check_val_every_n_epoch=null "
                       f"to validate every {m[1]} batches of the whole fit")


def _barebones_error(e: Exception) -> Exception | None:
    """A ConfigError for Lightning's "`Trainer(barebones=True, fast_dev_run=True)` was passed. Development run is
    not meant for raw speed evaluation ..." (an option that barebones mode turns off, given too), naming the option
    to drop; None for any other error."""
    m = re.match(r"`Trainer\(barebones=True, (\w+)=(.*)\)` was passed\. (.+?) (?:can|is not) ", str(e))
    if m is None:
        return None
    from metanet.errors import ConfigError

    option, value = m[1], m[2]
    # an object's repr (a profiler) is its class name: '<lightning....SimpleProfiler object at 0x...>'
    value = (re.match(r"<([\w.]+) object", value) or [None, value])[1].rsplit(".", 1)[-1]
    value = {"True": "true", "False": "false"}.get(value, value.strip("'\""))  # as a command line spells it
    return ConfigError(f"--trainer.barebones=true turns off {m[3][0].lower() + m[3][1:]}, but "
                       f"--trainer.{option}={value} was given too; drop one of them")


def _last_checkpoint(trainer: Any) -> str | None:
    """The newest ``last*.ckpt`` in the version directories of the trainer's logger, or None (Lightning then looks
    itself). Lightning's ``ckpt_path="last"`` looks only in this run's checkpoint directory, and a versioned logger
    (TensorBoardLogger, as in train/*.yaml) has just made that a new, empty ``version_N+1``: the run would start
    from scratch with only a warning."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    if not trainer.loggers or any(isinstance(c, ModelCheckpoint) and c.dirpath is not None
                                  for c in trainer.checkpoint_callbacks):
        return None  # a fixed checkpoint directory: Lightning's own search finds it
    # Lightning's rule (ModelCheckpoint._find_last_checkpoints): a name starting with "last", which takes the
    # "last-v1.ckpt" it saves beside an earlier run's last.ckpt in the same folder; a full match ignored that newer one
    found = [p for p in _runs_root(trainer).glob("*/checkpoints/*.ckpt")
             if re.match(rf"{ModelCheckpoint.CHECKPOINT_NAME_LAST}(-(\d+))?", p.stem)]
    return str(max(found, key=lambda p: p.stat().st_mtime)) if found else None


def _runs_root(trainer: Any) -> Path:
    """The directory of the first logger's version directories (``runs/writer`` in train/writer.yaml)."""
    logger = trainer.loggers[0]
    # expanded as the loggers expand it when they write: a save_dir of ~/runs was searched as ./~/runs, and the
    # run started from scratch with Lightning's "no last checkpoint available" warning
    root = Path(logger.save_dir if logger.save_dir is not None else trainer.default_root_dir).expanduser()
    return root / str(logger.name)


def _lightning_last(trainer: Any) -> str | None:
    """The checkpoint Lightning's own ``ckpt_path="last"`` search takes (the newest ``last*.ckpt`` of its
    ModelCheckpoints' directories, an OnExceptionCheckpoint's file), or None: where :func:`_last_checkpoint` leaves
    the search to it (no logger, a fixed ``dirpath``)."""
    from lightning.fabric.utilities.cloud_io import get_filesystem
    from lightning.pytorch.callbacks import ModelCheckpoint, OnExceptionCheckpoint

    found = [c.ckpt_path for c in trainer.callbacks if isinstance(c, OnExceptionCheckpoint)]
    for c in trainer.callbacks:
        # a logger's directory (no dirpath) is this run's new version_N, never holding one (_last_checkpoint searched
        # them all); reading the logger's version for it would fix the version before the run starts
        if isinstance(c, ModelCheckpoint) and (c.dirpath is not None or not trainer.loggers):
            found += c._find_last_checkpoints(trainer)
    # as Lightning picks among them: by modification time, on each path's file system (a dirpath may be remote)
    times = {p: fs.modified(p) for p in found if p and (fs := get_filesystem(p)).exists(p)}
    return max(times, key=times.get) if times else None  # type: ignore[arg-type]


def _last_where(trainer: Any) -> str:
    """Where ``--ckpt_path=last`` looked, for an error message."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    fixed = [str(c.dirpath) for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint) and c.dirpath]
    if fixed:
        return ", ".join(fixed)
    if trainer.loggers:
        return str(_runs_root(trainer) / "*" / "checkpoints")
    return str(Path(trainer.default_root_dir) / "checkpoints")


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
