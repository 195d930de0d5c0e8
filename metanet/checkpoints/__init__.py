"""Meta-network checkpoints: safetensors files with the model's constructor config in the header.

The shipped checkpoints live beside this file (``writer.safetensors``, ``reader.safetensors``); see README.md here
for how each was trained and the command that reproduces it.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import TypeVar

import torch
from safetensors import SafetensorError, safe_open
from torch import nn

from metanet.errors import CheckpointError, ConfigError

__all__ = ["save_module", "load_module", "load_lightning", "shipped", "check_float32", "SHIPPED_DIR"]

SHIPPED_DIR = Path(__file__).parent
M = TypeVar("M", bound=nn.Module)


def shipped(kind: str) -> Path:
    """Path of the checkpoint of ``kind`` (``"writer"`` or ``"reader"``) shipped inside the package."""
    return SHIPPED_DIR / f"{kind}.safetensors"


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
    from metanet.io import _path

    path = shipped(kind) if path is None else _path(path)
    if not path.is_file():
        raise CheckpointError(_missing(path, kind))
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint ({e})") from None
    if header.get("metanet.kind") != kind:
        raise CheckpointError(f"{path} is not a {kind} checkpoint (kind: {header.get('metanet.kind')!r})")
    errors = (KeyError, TypeError, ValueError, RuntimeError, NotImplementedError, RecursionError)
    try:
        config = json.loads(header["metanet.config"])
        if not isinstance(config, dict):
            raise TypeError(f"its config is {type(config).__name__}, not a mapping of constructor arguments")
        # the config is checked against the stored tensors on the meta device first: a corrupt config asking for
        # a huge model is an error here, not an out-of-memory crash
        with torch.device("meta"):
            want = {k: tuple(v.shape) for k, v in cls(**config).state_dict().items()}
    except errors as e:
        raise CheckpointError(f"{path}: checkpoint does not match {cls.__name__}: {type(e).__name__}: {e}") from None
    if want != shapes:
        diff = sorted(k for k in set(want) | set(shapes) if want.get(k) != shapes.get(k))
        raise CheckpointError(f"{path}: checkpoint does not match {cls.__name__} built from its config: tensors "
                              f"{diff[:4]} are missing, unexpected or of another shape")
    try:
        with safe_open(str(path), framework="pt") as f:
            state = {k: f.get_tensor(k) for k in f.keys()}
        from metanet._state import metanet_defaults

        with metanet_defaults():  # under a float64 default the module came out float64 (a ConfigError on use)
            module = cls(**config)
        module.load_state_dict(state, strict=True)
    except (SafetensorError, OSError, *errors) as e:
        raise CheckpointError(f"{path}: checkpoint does not match {cls.__name__}: {type(e).__name__}: {e}") from None
    return module.eval()


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
    return f"no {kind} checkpoint at {path}"


def load_lightning(cls: type[M], path: str | os.PathLike, kind: str, attr: str, config_keys: tuple[str, ...]) -> M:
    """Rebuild a ``cls`` from a Lightning ``.ckpt`` whose ``LightningModule`` holds it as ``self.<attr>``.

    The constructor arguments are the ``config_keys`` found among the module's saved hyperparameters. The file is
    read with ``torch.load(weights_only=True)``: nothing in it is unpickled as code.
    """
    from metanet.io import _path

    path = _path(path)
    if not path.is_file():
        raise CheckpointError(_missing(path, kind))
    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own message is a page of advice (with terminal colours) about trusting the file: we never do
        raise CheckpointError(f"{path} is not a {kind} Lightning checkpoint: it holds pickled objects other than "
                              "tensors and plain data, which metanet never unpickles; give the .safetensors file "
                              "a training run exports, or a Lightning .ckpt of it") from None
    except Exception as e:  # noqa: BLE001 - torch's legacy reader fails on junk bytes with struct.error, IndexError...
        raise CheckpointError(f"{path} is not a {kind} Lightning checkpoint ({type(e).__name__}: {e})") from None
    try:
        hp = ckpt["hyper_parameters"]
        config = {k: hp[k] for k in config_keys if k in hp}
        prefix = attr + "."
        state = {k[len(prefix):]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
        # shapes checked on the meta device first (as load_module does): corrupt hyperparameters asking for a huge
        # model are an error here, not an allocation of gigabytes
        with torch.device("meta"):
            want = {k: tuple(v.shape) for k, v in cls(**config).state_dict().items()}
        got = {k: tuple(v.shape) for k, v in state.items()}
        if want != got:
            diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            raise CheckpointError(f"{path}: the {attr!r} weights of this Lightning checkpoint do not match "
                                  f"{cls.__name__} built from its hyperparameters: tensors {diff[:4]} are missing, "
                                  "unexpected or of another shape")
        model = cls(**config)
        model.load_state_dict(state, strict=True)
    except CheckpointError:
        raise
    except (OSError, EOFError, KeyError, RuntimeError, TypeError, ValueError, AttributeError, NotImplementedError,
            RecursionError) as e:
        raise CheckpointError(f"{path} is not a {kind} Lightning checkpoint ({type(e).__name__}: {e})") from None
    return model.eval()
