"""Meta-network checkpoints: safetensors files with the model's constructor config in the header.

The shipped checkpoints live beside this file (``writer.safetensors``, ``reader.safetensors``); see README.md here
for how each was trained and the command that reproduces it.
"""

from __future__ import annotations

import inspect
import json
import os
import pickle
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError
from torch import nn
from torch.overrides import TorchFunctionMode

from metanet.errors import CheckpointError, ConfigError

__all__ = ["save_module", "load_module", "load_lightning", "shipped", "load_shipped", "check_float32", "SHIPPED_DIR"]

SHIPPED_DIR = Path(__file__).parent
M = TypeVar("M", bound=nn.Module)


#: What a checkpoint that leaves a constructor argument out stands for: the value of files written before the argument
#: existed, pinned here (not read from the constructor's current default, which may change and would then silently
#: rebuild another model). Any other argument a checkpoint lacks is a CheckpointError.
ABSENT_MEANS: dict[str, dict[str, object]] = {
    # each switches off a feature added later (and a reader without the scan or the cap still stores neither)
    "reader": {"data_probes": 0, "saliency": False, "derived_probes": 0, "task_evidence": 0.0, "scan_steps": 0,
               "task_cap": 0.0},
    # what such files have been loaded with since these options came (bench/data/writer_steps2.safetensors predated
    # them until it was retrained with them on 2026-12-06)
    "writer": {"head": "ridge", "head_iters": 30, "augment": "shift", "augment_below": 100},
}
#: constructor arguments that only set a learned parameter's starting value, which the file's tensor then replaces
INIT_ONLY: dict[str, tuple[str, ...]] = {
    "writer": ("ridge_lambda", "sub_lambda", "head_lambda", "temperature", "start_mix", "logit_lambda"),
}


def shipped(kind: str) -> Path:
    """Path of the checkpoint of ``kind`` (``"writer"`` or ``"reader"``) shipped inside the package."""
    return SHIPPED_DIR / f"{kind}.safetensors"


#: kind -> (the identity of the shipped file it was read from, the module): what load_shipped serves
_SHIPPED: dict[str, tuple[tuple, nn.Module]] = {}


def load_shipped(kind: str, loader: Callable[[], M], valid: Callable[[M], bool] | None = None) -> M:
    """The shipped checkpoint of ``kind``, loaded by ``loader()`` once per version of its file and then reused.

    The cached module is keyed by the file's path, inode, size and mtime_ns: a file replaced (a reinstall or a
    re-export during a long-lived process) is read again. ``valid(module)`` (if given) is asked on every reuse and
    a False loads the file again: for a module whose weights may have been changed in place since it was loaded.
    """
    from metanet import _state

    # metanet's lock of torch's global state, not a lock of its own: the loaders take it (Reader.load and
    # Writer.load fork the RNG), and read() / generate() call this holding it, so a second lock taken in between
    # deadlocked a thread loading here against one in read(); two threads asking at once still load once
    with _state._LOCK:
        path = shipped(kind)
        try:
            st = os.stat(path)
        except OSError:
            _SHIPPED.pop(kind, None)
            return loader()  # its own error naming the missing checkpoint
        # taken before loading: a file replaced meanwhile is cached under the old key and read again next time
        key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
        cached = _SHIPPED.get(kind)
        if cached is not None and cached[0] == key and (valid is None or valid(cached[1])):
            return cached[1]
        _SHIPPED.pop(kind, None)  # a failed load leaves no stale module behind
        module = loader()
        _SHIPPED[kind] = (key, module)
        return module


def save_module(module: nn.Module, path: str | os.PathLike, kind: str, config: dict, **meta) -> Path:
    """Write ``module``'s state dict and constructor ``config`` atomically to one safetensors file (``meta`` as in
    :func:`metanet.save`: numpy numbers stored as numbers, NaN as null, anything else JSON cannot hold a
    :class:`~metanet.errors.MetadataError`)."""
    from metanet.io import _meta_json, save_safetensors

    header = {"metanet.kind": kind, "metanet.config": json.dumps(config), "metanet.meta": _meta_json(meta)}
    tensors = {k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}
    return save_safetensors(tensors, path, header)


def load_module(cls: type[M], path: str | os.PathLike | None, kind: str) -> M:
    """Rebuild a ``cls`` from a file written by :func:`save_module` (``None``: the shipped one)."""
    from metanet.io import _open_one

    path = shipped(kind) if path is None else _checked_path(path, kind)
    if not path.is_file():
        raise CheckpointError(_missing(path, kind))
    if _magic(path) in ("zip", "pickle"):  # safetensors' own message: 'header too large'
        raise CheckpointError(f"{path} is a PyTorch / Lightning checkpoint (torch.save), not a safetensors file; a "
                              f"{kind} checkpoint in that format is read when its name ends in .ckpt (a Lightning "
                              "checkpoint of the training stage): rename it, or give the .safetensors export")

    def unreadable(e: Exception) -> CheckpointError:
        return CheckpointError(f"{path} is not a readable safetensors checkpoint ({e})")

    # one handle for the config and the tensors (a name that is not UTF-8 too): the file was opened twice, so a
    # checkpoint saved to the path in between (a training run's export) gave one file's config and the other's tensors
    with _open_one(path, unreadable) as f:
        return _load_module(cls, path, kind, f, unreadable)


def _load_module(cls: type[M], path: Path, kind: str, f: Any, unreadable: Callable[[Exception], Exception]) -> M:
    """:func:`load_module` of the file ``path``, opened as ``f`` (:func:`metanet.io._open_one`)."""
    try:
        header = f.metadata() or {}
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise unreadable(e) from None
    if header.get("metanet.kind") != kind:
        other = header.get("metanet.kind")
        if other is not None:
            what = f"a {other} checkpoint"
        elif "metanet.spec" in header:  # "kind: None" said nothing
            what = "a network saved with metanet.save (open it with metanet.load)"
        elif any(k.startswith("metanet.zoo") for k in header):
            what = "a zoo shard (open its zoo with metanet.Zoo)"
        else:
            what = "a safetensors file metanet did not write as a checkpoint"
        raise CheckpointError(f"{path} is not a {kind} checkpoint: it is {what}")
    errors = (KeyError, TypeError, ValueError, RuntimeError, NotImplementedError, RecursionError)
    try:
        config = json.loads(header["metanet.config"])
        if not isinstance(config, dict):
            raise TypeError(f"its config is {type(config).__name__}, not a mapping of constructor arguments")
        config = _complete(cls, config, kind, f"{path}: its config lacks", "re-save it with the code that wrote it")
        # options this version's constructor does not take: a file of another metanet version, as layers that differ
        # (below); was a raw "TypeError: ...__init__() got an unexpected keyword argument"
        takes = inspect.signature(cls).parameters
        unknown = sorted(k for k in config if k not in takes)
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in takes.values()):
            raise CheckpointError(f"{path}: its config has {', '.join(map(repr, unknown[:4]))}, which this version's "
                                  f"{cls.__name__} does not take; it was written by a metanet version whose "
                                  f"{cls.__name__} had other options: load it with the version that wrote it, or "
                                  "train a new one with this version")
        # the config is checked against the stored tensors on the meta device first: a corrupt config asking for
        # a huge model is an error here, not an out-of-memory crash
        want = _meta_shapes(cls, config, len(shapes), f"{path}: checkpoint does not match {cls.__name__} built from "
                                                       "its config")
    except CheckpointError:  # a ValueError too
        raise
    except ConfigError as e:
        raise CheckpointError(f"{path}: its config is not a valid {cls.__name__} ({e})") from None
    except errors as e:
        raise CheckpointError(f"{path}: checkpoint does not match {cls.__name__}: {type(e).__name__}: {e}") from None
    want = _without_optional(cls, want, shapes)
    if want != shapes:
        diff = sorted(k for k in set(want) | set(shapes) if want.get(k) != shapes.get(k))
        # the config has every key, but the layers differ: a file of another metanet version (a writer shipped
        # months ago), which the message did not say
        raise CheckpointError(f"{path}: checkpoint does not match {cls.__name__} built from its config: tensors "
                              f"{diff[:4]} are missing, unexpected or of another shape; it was written by a "
                              f"metanet version whose {cls.__name__} had other layers: load it with the version "
                              "that wrote it, or train a new one with this version")
    try:
        state = {k: f.get_tensor(k) for k in f.keys()}
        from metanet._state import metanet_defaults

        with metanet_defaults():  # under a float64 default the module came out float64 (a ConfigError on use)
            module = cls(**config)
        problem = _values_problem(state, module)
        if problem is None:
            module.load_state_dict(state, strict=True)
    except (SafetensorError, OSError, *errors) as e:
        raise CheckpointError(f"{path}: checkpoint does not match {cls.__name__}: {type(e).__name__}: {e}") from None
    if problem is not None:
        raise CheckpointError(f"{path}: {problem}; give a {kind} checkpoint metanet wrote")
    return module.eval()


def _kind_of(t: torch.Tensor) -> str:
    if t.is_floating_point():
        return "floating-point"
    return "boolean" if t.dtype == torch.bool else "complex" if t.is_complex() else "integer"


def _values_problem(state: dict[str, torch.Tensor], module: nn.Module) -> str | None:
    """Why the file's tensors ``state`` cannot be ``module``'s values (None if they can): a weight stored as integers
    or booleans, or an integer buffer as floats (``load_state_dict`` casts them silently: a writer of int8-rounded
    weights wrote other networks, a reader of 0/1 weights overflowed in read()), or NaN / infinite values (a run
    that diverged: the writer failed deep inside its solver, the reader blamed the network it read). Another
    floating-point precision (float64, float16) is cast to the module's, as before."""
    own = module.state_dict()
    wrong = [k for k in sorted(state) if k in own and _kind_of(state[k]) != _kind_of(own[k])]
    if wrong:
        want = own[wrong[0]]
        return (f"tensors {wrong[:4]} are {state[wrong[0]].dtype}, where the {type(module).__name__} holds "
                f"{_kind_of(want)} values ({want.dtype})")
    bad = [k for k in sorted(state) if state[k].is_floating_point() and not bool(torch.isfinite(state[k]).all())]
    if bad:
        return f"tensors {bad[:4]} hold NaN or infinite values (written by a training run that diverged?)"
    return None


class _TooLarge(Exception):
    """Raised by :class:`_Budget` when a module being built on the meta device passes its budget."""


class _Budget(TorchFunctionMode):
    """Counts the torch calls made while a module is built on the meta device and raises :class:`_TooLarge` past
    ``limit``. The mode is the calling thread's only (torch function modes are per thread)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.left = limit

    def __torch_function__(self, func: Callable, types: object, args: tuple = (), kwargs: dict | None = None) -> object:
        self.left -= 1
        if self.left < 0:
            raise _TooLarge
        return func(*args, **(kwargs or {}))


def _meta_shapes(cls: type, config: dict, held: int, mismatch: str) -> dict[str, tuple[int, ...]]:
    """The state dict shapes of ``cls(**config)``, built on the meta device within a budget of torch calls that a
    module of ``held`` tensors stays far below (a shipped checkpoint makes about 5 per tensor). check_fits_memory
    bounds the parameters, not the layers: a config of layers=100000, or a list of 3 million probe input sizes (a
    few bytes of JSON each), built modules on the meta device for many minutes and gigabytes before its shapes could
    be compared with the file's. ``mismatch`` starts the message."""
    try:
        with torch.device("meta"), _Budget(64 * (held + 16)):
            return {k: tuple(v.shape) for k, v in cls(**config).state_dict().items()}
    except _TooLarge:
        raise CheckpointError(f"{mismatch}: building that {cls.__name__} makes far more tensors than the file's "
                              f"{held:,} (a corrupt or crafted file); give a checkpoint metanet wrote") from None


def _without_optional(cls: type, want: dict[str, tuple[int, ...]], held: dict[str, tuple[int, ...]]
                      ) -> dict[str, tuple[int, ...]]:
    """``want`` without the tensors ``cls`` may find missing in a file (``cls.OPTIONAL_STATE``: added after files
    were written; its ``load_state_dict`` fills them in) that ``held`` (the file's) lacks."""
    optional = set(getattr(cls, "OPTIONAL_STATE", ()))
    return {k: v for k, v in want.items() if k in held or k not in optional}


def _checked_path(path: object, kind: str) -> Path:
    """``path`` as a Path (``~`` expanded), or a CheckpointError for what is no path at all."""
    from metanet.io import _path

    return _path(path, error=CheckpointError,
                 not_a_path=lambda p: f"a {kind} checkpoint is a path (str or os.PathLike) or None (the shipped one), "
                                      f"got {type(p).__name__} {p!r}",
                 # Path("") is ".": "'.' is a directory"
                 empty=lambda p: f"a {kind} checkpoint path is empty ({p!r}); give a checkpoint file (.safetensors "
                                 "or a Lightning .ckpt), or None for the shipped one")


def _magic(path: Path) -> str:
    """What the file's first bytes say it is: ``"zip"`` (torch.save), ``"pickle"`` (legacy torch.save or a plain
    pickle), ``"safetensors"`` (an 8-byte header length, then a JSON header) or ``"?"``."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return "?"  # the loaders name the problem when they open it
    # safetensors first: its header length is little-endian, so one file in 256 starts with the byte 0x80 (a header
    # of 128 + 256 n bytes) and was refused as "a PyTorch / Lightning checkpoint"
    if head[8:9] == b"{" and int.from_bytes(head[:8], "little") <= size - 8:
        return "safetensors"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[:1] == b"\x80":
        return "pickle"
    return "safetensors" if head[8:9] == b"{" else "?"


def _compressed(path: Path) -> str | None:
    """What a zip file (torch.save's format) holds compressed, or None: torch.save stores its records as they are, but
    torch.load also inflates compressed ones, in memory: a crafted .ckpt of 400 KB took 400 MB (one of 40 MB, 40 GB)."""
    try:
        with zipfile.ZipFile(path) as z:
            packed = [i for i in z.infolist() if i.compress_type != zipfile.ZIP_STORED]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):  # no zip file: torch.load names what it is
        return None
    if not packed:
        return None
    return (f"its records {[i.filename for i in packed][:3]} are compressed ({sum(i.compress_size for i in packed):,} "
            f"bytes that unpack to {sum(i.file_size for i in packed):,})")


def _complete(cls: type, config: dict, kind: str, lacks: str, fix: str) -> dict:
    """``config`` with the arguments it leaves out filled as :data:`ABSENT_MEANS` says, or a CheckpointError naming
    the ones nothing says: filled from the constructor's defaults, they could build another model than the saved
    one (``lacks``, ``fix``: the message's start and remedy)."""
    params = [p.name for p in inspect.signature(cls).parameters.values()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    absent = ABSENT_MEANS.get(kind, {})
    missing = [n for n in params if n not in config and n not in absent and n not in INIT_ONLY.get(kind, ())]
    if missing:
        raise CheckpointError(f"{lacks} {cls.__name__}'s {', '.join(missing)}: this version's defaults may not be "
                              f"what the {kind} was built with, so it cannot be rebuilt exactly; {fix}")
    return {**{k: v for k, v in absent.items() if k in params and k not in config}, **config}


def check_float32(net: nn.Module) -> None:
    """ConfigError unless ``net`` (a Reader or a Writer) holds float32 values: both compute in float32 (the graphs
    and support sets they take are cast to it), so another dtype, or the meta device, used to fail deep inside
    torch with a dtype or device mismatch."""
    kind = type(net).__name__
    for name, p in net.named_parameters():
        if p.is_meta:
            raise ConfigError(f"this {kind}'s parameter {name} is on the 'meta' device (no values); load one with "
                              f"{kind}.load(path)")
        if p.dtype != torch.float32:
            raise ConfigError(f"a {kind} computes in float32, but its parameter {name} is {p.dtype}; pass "
                              f"{kind.lower()}.float()")


def _missing(path: Path, kind: str) -> str:
    if path.is_dir():
        return f"{path} is a directory; give a {kind} checkpoint file (.safetensors, or a Lightning .ckpt)"
    if path.exists():  # /dev/zero, a named pipe: "no checkpoint at" said it was missing
        return (f"{path} is not a regular file (a device, pipe or socket); give a {kind} checkpoint file "
                "(.safetensors, or a Lightning .ckpt)")
    return f"no {kind} checkpoint at {path}"


def load_lightning(cls: type[M], path: str | os.PathLike, kind: str, attr: str, config_keys: tuple[str, ...]) -> M:
    """Rebuild a ``cls`` from a Lightning ``.ckpt`` whose ``LightningModule`` holds it as ``self.<attr>``.

    The constructor arguments are the ``config_keys`` found among the module's saved hyperparameters, or in the
    checkpoint's ``<attr>_config`` entry when it has one (a LoopModule's: its writer's own config). The file is
    read with ``torch.load(weights_only=True)``: nothing in it is unpickled as code. A safetensors file (one
    :func:`save_module` wrote, named ``.ckpt``) is read by :func:`load_module`.
    """
    path = _checked_path(path, kind)
    if not path.is_file():
        raise CheckpointError(_missing(path, kind))
    if _magic(path) == "safetensors":  # torch.load's 'Unsupported operand' was read as 'holds pickled objects'
        return load_module(cls, path, kind)
    packed = _compressed(path)
    if packed:
        raise CheckpointError(f"{path} is not a {kind} Lightning checkpoint: {packed}, which torch.save never "
                              "writes (torch.load would unpack them in memory); give the .ckpt file Lightning saved, "
                              "or the .safetensors file a training run exports")
    try:
        with warnings.catch_warnings():  # 'Detected pickle protocol 4': a plain pickle, refused below
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # torch's own message is a page of advice (with terminal colours) about trusting the file: we never do
        if "global" in str(e).lower():  # 'Unsupported global: ...', 'unsupported GLOBAL ... is blocked'; else no
            # torch.save file at all ('Unsupported operand 149': a plain pickle, protocol 4)
            raise CheckpointError(f"{path} is not a {kind} Lightning checkpoint: it holds pickled objects other "
                                  "than tensors and plain data, which metanet never unpickles; give the .safetensors "
                                  "file a training run exports, or a Lightning .ckpt of it") from None
        raise CheckpointError(f"{path} is not a {kind} Lightning checkpoint: it is not a file torch.save (or "
                              "Lightning) wrote, e.g. a plain pickle, which metanet never unpickles; give the "
                              ".safetensors file a training run exports, or a Lightning .ckpt of it") from None
    except Exception as e:  # noqa: BLE001 - torch's legacy reader fails on junk bytes with struct.error, IndexError...
        raise CheckpointError(f"{path} is not a {kind} Lightning checkpoint ({type(e).__name__}: {e})") from None
    try:
        hp = ckpt["hyper_parameters"]
        config = {k: hp[k] for k in config_keys if k in hp}
        # a module that holds the model under other hyperparameters (the LoopModule, which loads its writer from a
        # file) records the model's own config beside them, as "<attr>_config"
        if isinstance(ckpt.get(f"{attr}_config"), dict):
            config = {k: v for k, v in ckpt[f"{attr}_config"].items() if k in config_keys}
        prefix = attr + "."
        state = {k[len(prefix):]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
        held = sorted({k.split(".")[0] + "." for k in ckpt["state_dict"]})[:4]
        if not state:
            raise CheckpointError(f"{path} holds no {attr!r} weights (its state dict has {held or 'none'}): it is a "
                                  f"Lightning checkpoint of another training stage, not of the {kind}'s")
        # a LoopModule's .ckpt written before it recorded writer_config holds 'writer.' weights but not the writer's
        # config (it loaded the writer from a file)
        config = _complete(cls, config, kind, f"{path}: the hyperparameters of this Lightning checkpoint lack",
                           f"it was not saved by the {kind} stage's module ({prefix}* weights under "
                           f"hyperparameters {sorted(hp)[:6]}); load that fit's export (model.export, a "
                           ".safetensors file) instead")
        # shapes checked on the meta device first (as load_module does): corrupt hyperparameters asking for a huge
        # model are an error here, not an allocation of gigabytes
        mismatch = (f"{path}: the {attr!r} weights of this Lightning checkpoint do not match {cls.__name__} built "
                    "from its hyperparameters")
        got = {k: tuple(v.shape) for k, v in state.items()}
        want = _without_optional(cls, _meta_shapes(cls, config, len(state), mismatch), got)
        if want != got:
            diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            # the words of load_module's: a .ckpt of another metanet version said only "missing, unexpected or of
            # another shape"
            raise CheckpointError(f"{mismatch}: tensors {diff[:4]} are missing, unexpected or of another shape; it "
                                  f"was written by a metanet version whose {cls.__name__} had other layers: load it "
                                  "with the version that wrote it, or train a new one with this version")
        from metanet._state import metanet_defaults

        with metanet_defaults():  # as load_module: under a float64 default the module came out float64
            model = cls(**config)
        problem = _values_problem(state, model)
        if problem is not None:
            raise CheckpointError(f"{path}: {problem}; give a {kind} checkpoint metanet wrote")
        model.load_state_dict(state, strict=True)
    except CheckpointError:
        raise
    except ConfigError as e:  # "is not a writer Lightning checkpoint" said the file was something else
        raise CheckpointError(f"{path}: the hyperparameters of this Lightning checkpoint are not a valid "
                              f"{cls.__name__} ({e})") from None
    except (OSError, EOFError, KeyError, RuntimeError, TypeError, ValueError, AttributeError, NotImplementedError,
            RecursionError) as e:
        raise CheckpointError(f"{path} is not a {kind} Lightning checkpoint ({type(e).__name__}: {e})") from None
    return model.eval()
