"""`save` / `load`: one ``.safetensors`` file per network, its architecture and metadata in the header.

The header's ``__metadata__`` holds ``metanet.format`` (the file format version), ``metanet.spec`` (the JSON
architecture from :func:`metanet.nets.spec`) and ``metanet.meta`` (JSON of whatever keyword metadata was
given). No pickle is involved anywhere: loading a file never executes code.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes
from torch import nn

from metanet.errors import ArchError, FileFormatError
from metanet.nets import from_spec, spec
from metanet.nets.spec import weights_problem

__all__ = ["save", "load", "load_meta", "atomic_write", "save_safetensors", "json_safe", "FORMAT_VERSION"]

FORMAT_VERSION = "1"


def atomic_write(path: str | os.PathLike, write: Any) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path``: readers never see a half-written file."""
    path = Path(path)
    if path.is_dir():  # checked first: os.replace would fail only after the write, naming the temporary file
        raise IsADirectoryError(errno.EISDIR, "is a directory; give a file path", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the mode a plain open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float (NaN, ±inf) replaced by None, in nested dicts, lists and tuples: strict
    JSON (``json.dumps`` would write the invalid ``NaN`` / ``Infinity``), for file headers and ``--json`` output."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def save(model: nn.Module, path: str | os.PathLike, **meta: Any) -> Path:
    """Write ``model`` to ``path`` as one safetensors file (atomically).

    The tensors are stored in their own dtype (float32, float64, float16 or bfloat16; one dtype per network) and
    :func:`load` gives them back bit for bit, in that dtype, on the CPU; the train/eval mode and ``requires_grad``
    are not stored (:func:`load` returns the network in eval mode).

    Args:
        model: a metanet family network or a plain ``nn.Sequential`` of supported layers.
        path: destination (``.safetensors`` by convention).
        **meta: JSON-serialisable metadata stored in the header (task, accuracy, provenance, ...).

    Raises:
        ArchError: the model is not a supported network, or its tensors do not fit its architecture (a replaced
            layer, an extra buffer, mixed dtypes): :func:`load` would refuse the file; or they have no values
            (the ``meta`` device).
        TypeError: ``meta`` is not JSON-serialisable.
    """
    d = spec(model)
    empty = weights_problem(model)
    if empty:  # else a NotImplementedError from deep inside the copy of a meta tensor
        raise ArchError(f"cannot save this {type(model).__name__}: {empty}")
    header = {
        "metanet.format": FORMAT_VERSION,
        "metanet.spec": json.dumps(d),
        "metanet.meta": json.dumps(meta),
    }
    state = model.state_dict()
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in from_spec(d).state_dict().items()}
    problem = _misfit({k: tuple(v.shape) for k, v in state.items()}, expected, {k: v.dtype for k, v in state.items()})
    if problem:  # the file would be written, then refused by load()
        raise ArchError(f"cannot save this {type(model).__name__}: its {problem}")
    tensors = {k: v.detach().contiguous().clone() for k, v in state.items()}
    return save_safetensors(tensors, path, header)


def save_safetensors(tensors: dict[str, torch.Tensor], path: str | os.PathLike, metadata: dict[str, str]) -> Path:
    """Write ``tensors`` and ``metadata`` atomically as a safetensors file whose bytes depend only on them.

    safetensors writes its metadata map in a per-process random order (a Rust ``HashMap``), so the same network
    saved by two processes gave two files with different sha256s. The header is rewritten here with the metadata
    keys sorted, padded to the same length, so the tensors' offsets are unchanged and it stays a valid file.
    """
    raw = safetensors_bytes(tensors, metadata=metadata)
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    if "__metadata__" in header:
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    if len(text) <= n:  # always, in practice: the same JSON reordered (else keep safetensors' own bytes)
        raw = raw[:8] + text.ljust(n, b" ") + raw[8 + n :]
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(raw))


def _misfit(shapes: dict[str, tuple[int, ...]], expected: dict[str, tuple[int, ...]],
            dtypes: dict[str, torch.dtype]) -> str | None:
    """What keeps these tensors from being a network of the architecture (None if nothing)."""
    if shapes != expected:
        return f"tensors do not match the architecture: {_shape_mismatch(shapes, expected)}"
    bad = sorted(k for k, t in dtypes.items() if not t.is_floating_point)
    if bad:
        return f"tensors {bad[:4]} are {dtypes[bad[0]]}; network weights must be floating point"
    if len(set(dtypes.values())) > 1:  # such a network fails at its first forward pass
        first = next(iter(dtypes))
        odd = next(k for k, t in dtypes.items() if t != dtypes[first])
        return (f"weights must share one dtype, but {first} is {dtypes[first]} and {odd} is {dtypes[odd]}")
    return None


def _header(path: Path) -> dict[str, str]:
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "no such file"
        raise FileFormatError(f"{path}: {what}; give a network saved with metanet.save (.safetensors)")
    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise FileFormatError(f"{path} is not a readable safetensors file ({e}); metanet reads networks written "
                              "by metanet.save, and never unpickles a PyTorch .pt/.pth file: load one yourself "
                              "(torch.load(..., weights_only=True)) and metanet.save the module") from None


def load_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata given to :func:`save` (without loading the weights)."""
    path = Path(path)
    try:
        meta = json.loads(_header(path).get("metanet.meta", "{}"))
    except (json.JSONDecodeError, RecursionError) as e:
        raise FileFormatError(f"{path}: corrupt metadata in header ({type(e).__name__}: {e})") from None
    if not isinstance(meta, dict):  # save() writes keyword arguments: always a mapping
        raise FileFormatError(f"{path}: corrupt metadata in header (a {type(meta).__name__}, not a mapping)")
    return meta


def load(path: str | os.PathLike) -> nn.Module:
    """Read a network written by :func:`save` (weights exactly as saved, module in eval mode).

    Raises:
        FileFormatError: the file is missing, not safetensors, truncated, has no architecture in its header,
            or its tensors do not fit the architecture.
    """
    path = Path(path)
    header = _header(path)
    version = header.get("metanet.format", FORMAT_VERSION)
    if version != FORMAT_VERSION:  # another format may store other tensors under the same names: do not guess
        raise FileFormatError(
            f"{path} has metanet file format version {version!r}; supported: {FORMAT_VERSION!r} (written by "
            "another metanet version?)"
        )
    if "metanet.spec" not in header:
        raise FileFormatError(
            f"{path} is a safetensors file without a metanet architecture header ('metanet.spec'); "
            "save networks with metanet.save(model, path)"
        )
    try:
        # built on the meta device: no memory is allocated before the file's tensors are known to fit, so a
        # corrupt header claiming a huge network is an error, not an out-of-memory crash
        with torch.device("meta"):
            model = from_spec(json.loads(header["metanet.spec"]))
    except (json.JSONDecodeError, RecursionError, ArchError) as e:
        raise FileFormatError(f"{path}: the architecture in its header is invalid ({type(e).__name__}: {e})") from None
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    try:
        with safe_open(str(path), framework="pt") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
            if shapes != expected:
                raise FileFormatError(
                    f"{path}: tensors do not match the architecture in the header: "
                    f"{_shape_mismatch(shapes, expected)}"
                )
            state = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        if isinstance(e, FileFormatError):
            raise
        raise FileFormatError(f"{path}: cannot read tensors ({e})") from None
    problem = _misfit(shapes, expected, {k: v.dtype for k, v in state.items()})
    if problem:
        raise FileFormatError(f"{path}: {problem}")
    try:
        # assign=True keeps the stored tensors themselves, so a float64/float16 network stays bit-exact (and
        # replaces the meta-device placeholders)
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as e:
        raise FileFormatError(f"{path}: tensors do not match the architecture in the header: {e}") from None
    return model.eval()


def _shape_mismatch(got: dict[str, tuple[int, ...]], want: dict[str, tuple[int, ...]]) -> str:
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    if missing or extra:
        return f"missing {missing[:4]}, unexpected {extra[:4]} (expected {sorted(want)[:6]})"
    k = next(k for k in sorted(want) if got[k] != want[k])
    return f"{k} has shape {list(got[k])}, the architecture needs {list(want[k])}"
