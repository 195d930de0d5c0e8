"""`save` / `load`: one ``.safetensors`` file per network, its architecture and metadata in the header.

The header's ``__metadata__`` holds ``metanet.format`` (the file format version), ``metanet.spec`` (the JSON
architecture from :func:`metanet.nets.spec`) and ``metanet.meta`` (JSON of whatever keyword metadata was
given). No pickle is involved anywhere: loading a file never executes code.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import math
import os
import secrets
import stat
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes
from torch import nn

from metanet._state import user_stacklevel
from metanet.errors import ArchError, FileFormatError, MetadataError
from metanet.nets import Arch, from_spec, spec
from metanet.nets.spec import weights_problem
from metanet.verify import _HasModel

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

__all__ = ["save", "load", "load_meta", "atomic_write", "file_sha256", "save_safetensors", "json_safe",
           "FORMAT_VERSION"]

FORMAT_VERSION = "1"
# safetensors refuses to write or read a header larger than this (its MAX_HEADER_SIZE)
MAX_HEADER_BYTES = 100_000_000
#: the most layers a network file may describe: load() builds the architecture (on the meta device) before it can
#: compare the file's tensors with it, about half a millisecond a layer, so a header of 3 MB naming a million layers
#: hung for many minutes and took gigabytes; metanet's networks are small (the reader reads at most 8 layers)
MAX_LAYERS = 10_000
#: the dtypes a network is stored and computed in: float8 weights are floating point too, but torch cannot run them on
#: the CPU (a file of them loaded, then failed in verify as "does not accept inputs")
_WEIGHT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _path(path: Any, *, error: Callable[[str], Exception] = FileFormatError,
          not_a_path: Callable[[Any], str] | None = None, empty: Callable[[Any], str] | None = None) -> Path:
    """``path`` (str, bytes or os.PathLike) as a Path, ``~`` expanded (as the task data folders are):
    ``save(m, "~/m.safetensors")`` used to create a folder named ``~`` in the working directory. The one reading of a
    path argument: files, checkpoints, neuron databases and zoos all go through it.

    Args:
        error: the error class raised (the caller's: FileFormatError, CheckpointError, ZooError...).
        not_a_path: the message for something that is no path, given it (else a raw TypeError from os.fsdecode).
        empty: the message for an empty or blank path, given it; None lets it through (``Path("")`` is ``.``).
    """
    try:
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError
        text = os.fsdecode(path)  # TypeError too for an os.PathLike whose __fspath__ returns no str or bytes
    except TypeError:
        raise error(not_a_path(path) if not_a_path else
                    f"expected a file path (str, bytes or os.PathLike), got {type(path).__name__}") from None
    if empty is not None and not text.strip():
        raise error(empty(path))
    problem = path_problem(text)
    if problem:  # said here: the OS's OSError / ValueError came raw, or as "no such file" from a lookup
        raise error(f"the path {shown_path(text)} {problem}")
    return Path(text).expanduser()


def _unexpandable(text: str) -> str | None:
    """Why the ``~`` or ``~name`` that ``text`` (without a NUL byte) starts with cannot be expanded, or None: no such
    home folder (pathlib raised a raw RuntimeError, "Could not determine home directory", for a user this machine
    does not have)."""
    parts = Path(text).parts
    head = parts[0] if parts else ""
    if not head.startswith("~"):
        return None
    try:
        home = os.path.expanduser(head)
    except ValueError:  # a name pwd cannot encode (a lone surrogate): no user has it
        home = head
    if not home.startswith("~"):
        return None
    who = ("your user has no home folder and $HOME is not set" if head == "~" else
           f"this machine has no user {shown_path(head[1:])}")
    return f"starts with {shown_path(head)}, but {who}; give the full path instead"


def path_problem(path: str | os.PathLike) -> str | None:
    """Why no file system takes ``path``, ``~`` not yet expanded (its end saying what would be valid), or None: a NUL
    byte (open() raised "ValueError: embedded null byte", pwd too on '~a\\0b'), a ``~name`` of no user
    (:func:`_unexpandable`), a name longer than the file system's limit (NAME_MAX) or a path longer than PATH_MAX
    ("OSError: [Errno 36] File name too long"). Only names of over 255 bytes ask the file system its limit."""
    text = os.fspath(path)
    if "\0" in text:
        return "contains a NUL byte ('\\x00'), which no file name can hold; give the path without it"
    if problem := _unexpandable(text):  # before expanduser, which raised it raw
        return problem
    expanded = Path(text).expanduser()
    text, parts = str(expanded), expanded.parts
    for i, name in enumerate(parts):
        size = _encoded_size(name)
        if size > 255:
            limit = _name_max(Path(*parts[:i]) if i else Path("."))
            if size > limit:
                return (f"has a file name too long ({_sized(name)}; the system allows {limit} per name); "
                        "give a shorter name")
    size = _encoded_size(text)
    if size >= 4096:
        limit = _limit("PC_PATH_MAX", Path("."), 4096)  # counts the C string's closing NUL
        if size >= limit:
            return f"is too long ({_sized(text)}; the system allows {limit - 1} per path); give a shorter path"
    return None


def shown_path(text: str) -> str:
    """``text`` quoted for a message, its middle elided when long (a 5,000-character name made a 5,000-character
    error line)."""
    return repr(text if len(text) <= 100 else f"{text[:60]}...{text[-30:]}")


def _encoded_size(text: str) -> int:
    """The bytes the file system sees of ``text`` (its length where it cannot be encoded: the OS call refuses it)."""
    try:
        return len(os.fsencode(text))
    except UnicodeEncodeError:
        return len(text)


def _sized(text: str) -> str:
    """'5000 characters', with the encoded bytes when they differ (the limits are in bytes)."""
    size = _encoded_size(text)
    return f"{len(text)} characters" + ("" if size == len(text) else f", {size} bytes")


def _limit(name: str, folder: Path, default: int) -> int:
    """``os.pathconf`` of the nearest existing folder of ``folder`` (else ``default``: the platform does not say)."""
    while not os.path.isdir(folder) and folder != folder.parent:
        folder = folder.parent
    try:
        limit = os.pathconf(folder, name)
    except (OSError, ValueError, AttributeError):  # no such folder, no such name, no pathconf (Windows)
        limit = -1
    return limit if limit > 0 else default


def _name_max(folder: Path) -> int:
    """The file system's longest name (NAME_MAX, bytes) in ``folder``; 255, the usual one, if it does not say."""
    return _limit("PC_NAME_MAX", folder, 255)


def _write_path(path: str | os.PathLike) -> Path:
    """:func:`_path` of a file to write: an empty path was "'.': is a directory" (a path never given), and a blank
    one ('  ') wrote a file that :func:`load` then refused as an empty path."""
    p = _path(path, empty=lambda p: f"the path to write is empty ({p!r}); give a file path, e.g. 'net.safetensors'")
    _not_dir_syntax(path)
    return p


def _not_dir_syntax(path: str | bytes | os.PathLike) -> None:
    """Refuse a file path to write that ends in '/': Path() drops it, and 'out/' wrote a file named 'out'."""
    text = os.fsdecode(path)
    if text.endswith(("/", os.sep)):
        raise IsADirectoryError(errno.EISDIR, "ends in '/', so names a directory; give a file path in it", text)


def _make_dir(path: Path, then: str | None = None) -> None:
    """``path.mkdir(parents=True, exist_ok=True)``, or a NotADirectoryError naming what stands in the way (``then``:
    what to do instead): mkdir's 'File exists' read as if all was fine, and a broken symbolic link, which mkdir
    cannot make a folder at either, was called a file."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        name = e.filename if e.filename is not None else str(path)
        what = "is a file, not a directory"
        if os.path.islink(name) and not os.path.exists(name):
            with contextlib.suppress(OSError):  # gone meanwhile: "not a directory" still holds
                what = f"is a broken symbolic link (to {os.readlink(name)}), not a directory"
        raise NotADirectoryError(errno.ENOTDIR, f"{what}; {then}" if then else what, name) from None


def _link_target(link: Path) -> Path:
    """The file that writing through the symbolic link ``link`` makes or replaces, as ``open(link, "w")`` would: its
    final target, in a folder that must exist. No folder is made for it: mkdir made them wherever a broken link
    pointed (``--out brk``, ``brk -> /nonexistent/x``, created ``/nonexistent/``), where open() fails.

    Raises:
        OSError: ``ELOOP`` for a loop of links, ``ENOENT``/``ENOTDIR`` for a target folder that does not exist or
            is a file; naming ``link`` and where it points.
    """
    real = Path(os.path.realpath(link))
    try:
        to = os.readlink(link)
    except OSError:  # gone meanwhile
        to = str(real)
    if real.is_symlink():  # realpath stops at a loop; os.replace would replace the link by a file
        raise OSError(errno.ELOOP, f"is a symbolic link in a loop (to {to}); give a file path", str(link))
    if not real.parent.is_dir():
        code, why = ((errno.ENOTDIR, "is a file") if real.parent.exists() else (errno.ENOENT, "does not exist"))
        raise OSError(code, f"is a broken symbolic link (to {to}), whose folder {real.parent} {why}; give a file path "
                      "in an existing folder, or make that folder first", str(link))
    return real


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes (hex), read in 1 MiB blocks: zoo shards, checkpoints."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path``: readers never see a half-written file.

    A ``path`` that is a symbolic link is written through, as ``open(path, "w")`` would: the file it points to is
    replaced and the link kept. An existing file keeps its permission bits, a new one gets ``0o666`` less the umask.
    """
    _not_dir_syntax(path)
    path = Path(path)
    given = path
    if path.is_symlink():  # os.replace would replace the link itself by a regular file
        path = _link_target(path)
    if path.is_dir():  # checked first: os.replace would fail only after the write, naming the temporary file
        raise IsADirectoryError(errno.EISDIR, "is a directory; give a file path", str(given))
    _make_dir(path.parent, "no file can be written under it")
    try:
        tmp = _new_temp(path)
    except OSError as e:  # name the destination, not a temporary file the user never asked for
        raise OSError(e.errno, f"cannot write a file here ({e.strerror})", str(given)) from None
    try:
        write(tmp)
        try:  # a plain open() keeps the mode of a file it overwrites: a private 0600 file stays private
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        except FileNotFoundError:
            pass  # a new file keeps the mode the temporary was created with: what a plain open() gives
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if e.filename not in (None, tmp, str(path)):
            raise  # about another file (one the writer read): its own name says more
        # a full disk while writing named no file at all (the CLI showed a traceback), a failed rename the temporary
        named = OSError(e.errno, e.strerror or str(e), str(given))
        if type(named) is not type(e):
            # OSError(errno, ...) is the built-in class of that errno: an error without one (FileNotFoundError('...'),
            # io.UnsupportedOperation, TimeoutError) or of a library's subclass would lose its class, which callers
            # catch by: raised as it is
            raise
        raise named from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return given


def _new_temp(path: Path) -> str:
    """Create an empty temporary file ``.{name}.XXXXXXXX.tmp`` beside ``path``, of mode ``0o666`` less the umask (the
    kernel applies it, as for a plain open()). mkstemp's 0600 made the umask needed, and reading it (``os.umask(0)``,
    then back) set the umask of the whole process to 0 for a moment: a file another thread created then was
    world-writable."""
    name = _temp_stem(path.parent, path.name, len(".12345678.tmp") + 1)
    for _ in range(100):
        tmp = path.parent / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return str(tmp)
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def _temp_stem(folder: Path, name: str, extra: int) -> str:
    """``name`` shortened (from its end) so that a temporary's name made of it and ``extra`` more bytes fits the
    file system's name limit (NAME_MAX, 255 bytes): a file or folder name of up to 255 bytes, which a plain open()
    or mkdir takes, failed as "File name too long" for its longer temporary. A name already too long is kept (its
    own write fails, naming it); the temporary stays unique by its random part."""
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):  # the platform does not say
        limit = -1
    if limit <= 0:  # no limit reported: the usual one
        limit = 255
    size = len(os.fsencode(name))
    if size > limit or size + extra <= limit:
        return name
    while name and len(os.fsencode(name)) + extra > limit:
        name = name[:-1]
    return name


@contextlib.contextmanager
def tensorboard_writer(log_dir: str | os.PathLike) -> Iterator["SummaryWriter"]:
    """A TensorBoard ``SummaryWriter`` logging to ``log_dir``, flushed and closed on exit (also after an error).

    Its event file is written by a thread that hands a full disk back as an OSError naming no file (the CLI's one
    line did not say where): such an error raised by the writer is raised again with the same errno, naming
    ``log_dir``. Other errors pass through unchanged.

    Args:
        log_dir: the run's log folder (created if missing).

    Raises:
        OSError: the log folder or its event file cannot be written (``filename`` set).
    """
    from torch.utils.tensorboard import SummaryWriter

    with _log_dir_named(log_dir):
        writer = SummaryWriter(str(log_dir))
    try:
        with _log_dir_named(log_dir):
            yield writer
            writer.flush()  # raises what the event-file thread failed with (close alone may not)
    except BaseException:
        with contextlib.suppress(OSError):  # that failure raised again must not hide the first error
            writer.close()
        raise
    with _log_dir_named(log_dir):
        writer.close()


@contextlib.contextmanager
def _log_dir_named(log_dir: str | os.PathLike) -> Iterator[None]:
    """An OSError naming no file raised by TensorBoard's writer, raised again (same errno) naming ``log_dir``."""
    try:
        yield
    except OSError as e:
        if e.filename is not None or not _raised_by_tensorboard(e):
            raise
        raise OSError(e.errno, e.strerror or str(e), str(log_dir)) from e


def _raised_by_tensorboard(e: BaseException) -> bool:
    """Whether ``e`` went through TensorBoard's writer code (its event-file thread's error is raised again there)."""
    tb = e.__traceback__
    while tb is not None:
        if f"{os.sep}tensorboard{os.sep}" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


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


def _meta_json(meta: dict[str, Any]) -> str:
    """``meta`` as strict JSON: numpy numbers and 0-d tensors (an accuracy from ``.mean()``) as plain numbers, NaN and
    ±inf as null (:func:`json_safe`); anything else JSON cannot hold is a :class:`MetadataError` naming its key."""
    def plain(v: Any, where: str) -> Any:
        if isinstance(v, dict):
            return {k: plain(x, f"{where}[{k!r}]") for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if not isinstance(v, (str, int, float, type(None))) and getattr(v, "ndim", None) == 0 and hasattr(v, "item"):
            v = v.item()
        if isinstance(v, (str, int, float, type(None))):  # bool is an int
            return json_safe(v)
        raise MetadataError(f"metadata {where} is a {type(v).__name__}, which JSON cannot hold; give numbers, "
                            "strings, booleans, None, and lists or dicts of them (str() a path, .tolist() an array)")

    try:
        return json.dumps({k: plain(v, repr(k)) for k, v in meta.items()}, allow_nan=False)
    except RecursionError:
        raise MetadataError("metadata is nested too deeply or contains itself (a circular reference)") from None
    except (TypeError, ValueError) as e:  # a dict key JSON cannot hold, such as a tuple
        if isinstance(e, MetadataError):
            raise
        raise MetadataError(f"metadata is not JSON-serialisable: {e}") from None


#: packages whose hooks are their own machinery, not the user's: Lightning's profiler hooks every module of a
#: profiled run, PyG's lazy layers infer their shapes with one
_HOOK_PACKAGES = ("torch", "metanet", "lightning", "pytorch_lightning", "torch_geometric")


def _own_hook(hook: Any) -> bool:
    """A hook torch, Lightning, PyG or metanet registers (e.g. a lazy module's shape inference), not the user's."""
    while isinstance(hook, functools.partial):  # a partial's __module__ is functools: the function it calls says
        hook = hook.func
    mod = getattr(hook, "__module__", None) or type(hook).__module__
    return isinstance(mod, str) and mod.split(".")[0] in _HOOK_PACKAGES


def _warn_user_hooks(module: nn.Module, what: str, then: str) -> None:
    """One UserWarning if ``module`` or a submodule carries forward hooks or forward pre-hooks the user registered:
    ``what`` holds the weights only, so ``then`` (the network made from it) runs without them and can compute
    something else. Not an error: hooks that only record activations are common and harmless."""
    carriers = [f"{name!r} ({type(m).__name__})" if name else f"the {type(m).__name__} itself"
                for name, m in module.named_modules()
                if any(not _own_hook(h) for h in (*m._forward_pre_hooks.values(), *m._forward_hooks.values()))]
    if carriers:
        more = f" and {len(carriers) - 4} more" if len(carriers) > 4 else ""
        warnings.warn(f"forward hooks or pre-hooks on {', '.join(carriers[:4])}{more} are not part of {what} (the "
                      f"weights are): {then} runs without them, so where a hook changes inputs or outputs it computes "
                      "something else; register them on it again if it needs them", UserWarning,
                      stacklevel=user_stacklevel())  # save, to_graph, or read (via to_graph): the user's call


def save(model: nn.Module | _HasModel, path: str | os.PathLike, **meta: Any) -> Path:
    """Write ``model`` to ``path`` as one safetensors file (atomically).

    The tensors are stored in their own dtype (float32, float64, float16 or bfloat16; one dtype per network) and
    :func:`load` gives them back bit for bit, in that dtype, on the CPU; the train/eval mode and ``requires_grad``
    are not stored (:func:`load` returns the network in eval mode).

    Args:
        model: a metanet family network or a plain ``nn.Sequential`` of supported layers; a
            :class:`~metanet.graph.NeuralGraph` (the network it encodes, exactly); or what :func:`metanet.generate`
            returns, saved as its :meth:`~metanet.writer.Generated.save` does (the same file: its chosen network,
            the generation report as the metadata; ``meta`` must then be empty: save ``g.model`` for metadata of
            your own).
        path: destination (``.safetensors`` by convention; ``~`` is the home folder, missing parent folders are
            created). An existing file is replaced whole; a symbolic link is written through (the file it points
            to is replaced, the link kept).
        **meta: JSON-serialisable metadata stored in the header (task, accuracy, provenance, ...). numpy numbers
            and 0-d tensors are stored as plain numbers; NaN and ±inf as ``None`` (the header is strict JSON).

    Raises:
        ArchError: the model is not a supported network (a path given first names the order:
            ``save(model, path)``), or its tensors do not fit its architecture (a replaced layer, an extra buffer,
            mixed dtypes, float8): :func:`load` would refuse the file, as it refuses more than 10,000
            layers; or they have no values (the ``meta`` device).
        GraphError: a malformed graph.
        MetadataError: ``meta`` is not JSON-serialisable (a :class:`~metanet.errors.ConfigError` and a
            ``TypeError``), or too large for the file header (100 MB), or given with a generated network; nothing
            is written.
        FileFormatError: ``path`` is empty or blank, or no path at all (not a str, bytes or os.PathLike).
        OSError: ``path`` cannot be written (a directory, under a file, no permission).

    Warns:
        UserWarning: the network or a submodule carries forward hooks or pre-hooks of the user's, naming them: the
            file holds the weights only, so the network :func:`load` gives back runs without them.
    """
    if not isinstance(model, nn.Module):
        return _save_other(model, path, meta)
    d = spec(model)
    layers, _ = _spec_layers(d)
    if layers > MAX_LAYERS:  # load() would refuse the file
        raise ArchError(f"cannot save this {type(model).__name__}: it has {layers:,} layers, and metanet.load reads "
                        f"networks of at most {MAX_LAYERS:,}")
    empty = weights_problem(model)
    if empty:  # else a NotImplementedError from deep inside the copy of a meta tensor
        raise ArchError(f"cannot save this {type(model).__name__}: {empty}")
    header = {
        "metanet.format": FORMAT_VERSION,
        "metanet.spec": json.dumps(d),
        "metanet.meta": _meta_json(meta),
    }
    state = model.state_dict()
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in from_spec(d).state_dict().items()}
    problem = _misfit({k: tuple(v.shape) for k, v in state.items()}, expected, {k: v.dtype for k, v in state.items()})
    if problem:  # the file would be written, then refused by load()
        raise ArchError(f"cannot save this {type(model).__name__}: its {problem}")
    tensors = {k: v.detach().contiguous().clone() for k, v in state.items()}
    _warn_user_hooks(model, "the file", "the network metanet.load reads from it")
    return save_safetensors(tensors, path, header)


def _save_other(obj: Any, path: str | os.PathLike, meta: dict[str, Any]) -> Path:
    """:func:`save` of what is no module: metanet.generate's result or a graph (as metanet.verify and metanet.read
    take them), else an ArchError naming what was given."""
    from metanet.verify import _is_generated, _is_graph

    if _is_generated(obj):  # its report is the metadata, as g.save(path) writes it: the same bytes
        if meta:  # merged, report keys could be overwritten and the file no longer say how it was generated
            raise MetadataError(
                f"save() of metanet.generate's result stores its generation report as the metadata (as "
                f"g.save(path) does); to store metadata of your own ({', '.join(map(repr, meta))}) save the "
                "network itself: metanet.save(g.model, path, **meta)")
        return obj.save(path)
    if _is_graph(obj):
        from metanet.graph import from_graph

        return save(from_graph(obj), path, **meta)  # exact round trip; GraphError for a malformed graph
    if isinstance(obj, (str, bytes, os.PathLike)):  # else "unsupported module str"
        raise ArchError(f"save() takes the network first, then the path: save(model, path, **meta); got the path "
                        f"{os.fsdecode(obj)!r:.120} as the network (to copy a saved network: save(load(src), dst))")
    spec(obj)  # an ArchError naming the type and what is supported
    raise ArchError(f"save() needs an nn.Module, got {type(obj).__name__}")


def save_safetensors(tensors: dict[str, torch.Tensor], path: str | os.PathLike, metadata: dict[str, str]) -> Path:
    """Write ``tensors`` and ``metadata`` atomically as a safetensors file whose bytes depend only on them.

    safetensors writes its metadata map in a per-process random order (a Rust ``HashMap``), so the same network
    saved by two processes gave two files with different sha256s. The header is rewritten here with the metadata
    keys sorted, padded to the same length, so the tensors' offsets are unchanged and it stays a valid file.
    """
    try:
        raw = safetensors_bytes(tensors, metadata=metadata)
    except SafetensorError as e:
        if "header too large" not in str(e):
            raise
        size = len(json.dumps(metadata))  # the header's bulk; a raw SafetensorError named no cause
        raise MetadataError(f"metadata of about {size:,} bytes does not fit a safetensors header (at most "
                            f"{MAX_HEADER_BYTES:,} bytes); keep large data in a file of its own and store its "
                            "path") from None
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    if "__metadata__" in header:
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    if len(text) <= n:  # always, in practice: the same JSON reordered (else keep safetensors' own bytes)
        raw = raw[:8] + text.ljust(n, b" ") + raw[8 + n :]
    return atomic_write(_write_path(path), lambda tmp: Path(tmp).write_bytes(raw))


def _misfit(shapes: dict[str, tuple[int, ...]], expected: dict[str, tuple[int, ...]],
            dtypes: dict[str, torch.dtype]) -> str | None:
    """What keeps these tensors from being a network of the architecture (None if nothing)."""
    if shapes != expected:
        return f"tensors do not match the architecture: {_shape_mismatch(shapes, expected)}"
    bad = sorted(k for k, t in dtypes.items() if t not in _WEIGHT_DTYPES)
    if bad:
        return (f"tensors {bad[:4]} are {dtypes[bad[0]]}; network weights must be floating point: float32, float64, "
                "float16 or bfloat16")
    if len(set(dtypes.values())) > 1:  # such a network fails at its first forward pass
        first = next(iter(dtypes))
        odd = next(k for k, t in dtypes.items() if t != dtypes[first])
        return (f"weights must share one dtype, but {first} is {dtypes[first]} and {odd} is {dtypes[odd]}")
    return None


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` is no regular file to read (None if it is one): /dev/null or a pipe said "no such file"."""
    try:
        if path.is_file():
            # safetensors calls a file it may not read "No such file or directory"
            os.close(os.open(path, os.O_RDONLY))
            return None
    except PermissionError as e:  # also a folder on the way that may not be searched
        return (f"cannot be read ({e.strerror}): the file, or a folder on its path, is not readable by you; ask its "
                "owner for read access")
    except OSError as e:  # pathlib swallows only "no such file"-like errors: a too-long name was a raw OSError
        return f"cannot be looked up ({e.strerror})"
    if path.is_dir():
        return "is a directory, not a file"
    if path.is_symlink():
        return f"is a broken symbolic link (to {os.readlink(path)}): no such file"
    if path.exists():
        return "is not a regular file (a device, pipe or socket)"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        return f"no such file ({parent} is a file, not a directory)"
    return "no such file"


def _read_path(path: str | os.PathLike) -> Path:
    """:func:`_path` of a file to read: an empty path (Path('') is '.') was "'.': is a directory, not a file"."""
    return _path(path, empty=lambda p: f"the path is empty ({p!r}); give the path of a network saved with metanet.save "
                                       "(.safetensors)")


#: opens of a network file that another process keeps replacing, before the last one is used as it is (_open)
_OPEN_ATTEMPTS = 5


def _identity(path: Path) -> tuple[int, ...] | None:
    """Which file ``path`` is now (:func:`_stat_identity`); None if it cannot be looked up."""
    try:
        return _stat_identity(os.stat(path))
    except OSError:
        return None


def _stat_identity(st: os.stat_result) -> tuple[int, ...]:
    """Which file a ``stat`` result describes, as far as a reader can tell a replaced one: device, inode, size and
    modification time (the zoo's shard handles and :func:`load` reopen a file whose identity changed)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@contextlib.contextmanager
def _utf8_name(path: str | os.PathLike) -> Iterator[str]:
    """A name of the file ``path`` that ``safe_open`` takes, inside the ``with``. safetensors takes UTF-8 names only: a
    file name in another encoding (which :func:`save` writes, as any open() does) was "not a readable safetensors file
    (Path ... is not valid UTF-8)". Such a file is opened here and named by its descriptor; safe_open opens and maps
    it before it returns, so the handle it gives reads on after the ``with``."""
    name = os.fsdecode(path)
    try:
        name.encode("utf-8")
        fds = None
    except UnicodeEncodeError:  # (Windows names are Unicode: it has neither folder, nor such names)
        fds = next((d for d in ("/proc/self/fd", "/dev/fd") if os.path.isdir(d)), None)
    if fds is None:
        yield name
        return
    fd = os.open(name, os.O_RDONLY)
    try:
        yield f"{fds}/{fd}"
    finally:
        os.close(fd)


def _header(path: Path) -> dict[str, str]:
    with _open(path) as f:
        return f.metadata() or {}


def _open(path: Path) -> Any:
    """A ``safe_open`` handle of the file ``path``: its header and tensors are those of the one file opened, even if
    the path is replaced meanwhile (:func:`atomic_write` renames a new file over it).

    Raises:
        FileFormatError: ``path`` is no readable file, or no safetensors file.
    """
    what = _not_a_file(path)
    if what:
        raise FileFormatError(f"{path}: {what}; give a network saved with metanet.save (.safetensors)")
    return _open_one(path, lambda e: FileFormatError(
        f"{path} is not a readable safetensors file ({e}); metanet reads networks written by metanet.save, and never "
        "unpickles a PyTorch .pt/.pth file: load one yourself (torch.load(..., weights_only=True)) and metanet.save "
        "the module"))


def _open_one(path: Path, unreadable: Callable[[Exception], Exception]) -> Any:
    """A ``safe_open`` handle of the one file ``path`` names, reopened while another process replaces it (see
    :func:`_open`); ``unreadable(e)`` is raised for a file safetensors cannot open (its error ``e``), e.g. a
    checkpoint's CheckpointError (:func:`metanet.checkpoints.load_module`)."""
    for attempt in range(1, _OPEN_ATTEMPTS + 1):
        before = _identity(path)
        try:
            with _utf8_name(path) as name:
                f = safe_open(name, framework="pt")
        except (SafetensorError, OSError, ValueError, RuntimeError) as e:
            if attempt < _OPEN_ATTEMPTS and _identity(path) != before:
                continue  # replaced while being opened (see below): open the new file
            if isinstance(e, RuntimeError):
                raise
            raise unreadable(e) from None
        # safetensors reads the header through one open of the path and maps the tensors through another: a file
        # replaced in between gave the header of one and the bytes of the other (a RuntimeError, or wrong weights)
        if attempt == _OPEN_ATTEMPTS or _identity(path) == before:
            return f
        f.__exit__(None, None, None)
    raise AssertionError("unreachable: the last attempt returns or raises")


def load_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata given to :func:`save` (without loading the weights)."""
    path = _read_path(path)
    try:
        meta = json.loads(_header(path).get("metanet.meta", "{}"))
    except (json.JSONDecodeError, RecursionError) as e:
        raise FileFormatError(f"{path}: corrupt metadata in header ({type(e).__name__}: {e})") from None
    if not isinstance(meta, dict):  # save() writes keyword arguments: always a mapping
        raise FileFormatError(f"{path}: corrupt metadata in header (a {type(meta).__name__}, not a mapping)")
    return meta


def recorded_meta(model: Any) -> dict[str, Any]:
    """The metadata of a network given as the path of its file (:func:`load_meta`), for what a command reports of
    the file; empty for a network that is no path, or a file without readable metanet metadata."""
    if not isinstance(model, (str, bytes, os.PathLike)):
        return {}
    try:
        return load_meta(os.fsdecode(model))
    except FileFormatError:  # a network without readable metanet metadata: nothing recorded
        return {}


def recorded_class_names(names: Any, outputs: int) -> list[str] | None:
    """``class_names`` as a file or a generation report recorded them (output ``i`` means ``names[i]``), when they
    are one string per output; None otherwise: no names rather than names of other outputs."""
    ok = isinstance(names, list) and len(names) == outputs and all(isinstance(n, str) for n in names)
    return list(names) if ok else None


def load(path: str | os.PathLike) -> nn.Module:
    """Read a network written by :func:`save` (weights exactly as saved, module in eval mode).

    Raises:
        FileFormatError: the file is missing, not safetensors, truncated, has no architecture in its header
            (or one of more than 10,000 layers), or its tensors do not fit the architecture (or are not
            float32, float64, float16 or bfloat16).
    """
    path = _read_path(path)
    # one handle for header and tensors: the file opened once per read, another network saved to the path between
    # two opens (a second process, a thread) gave one file's architecture and the other's tensors, refused as corrupt
    with _open(path) as f:
        return _load(path, f)


def _load(path: Path, f: Any) -> nn.Module:
    """:func:`load` of the file ``path``, opened as ``f`` (:func:`_open`)."""
    header = f.metadata() or {}
    version = header.get("metanet.format", FORMAT_VERSION)
    if version != FORMAT_VERSION:  # another format may store other tensors under the same names: do not guess
        raise FileFormatError(
            f"{path} has metanet file format version {version!r}; supported: {FORMAT_VERSION!r} (written by "
            "another metanet version?)"
        )
    if "metanet.spec" not in header:
        raise FileFormatError(_not_a_network(path, header))
    try:
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise FileFormatError(f"{path}: cannot read tensors ({e})") from None
    try:
        d = json.loads(header["metanet.spec"])
        # counted before the network is built (time and memory per layer, see MAX_LAYERS): weight layers the file's
        # tensors cannot fill, each holding at least its weight, are not built
        weights = _checked_layers(d)[1]
        if weights > len(shapes) and d.get("family") != "sequential":
            Arch.from_dict(d)  # cheap: an invalid mlp / cnn is named as such first, as from_spec would name it
        model = None
        if weights <= len(shapes):
            # built on the meta device: no memory is allocated before the file's tensors are known to fit, so a
            # corrupt header claiming a huge network is an error, not an out-of-memory crash
            with torch.device("meta"):
                model = from_spec(d)
    except (json.JSONDecodeError, RecursionError, ArchError) as e:
        raise FileFormatError(f"{path}: the architecture in its header is invalid ({type(e).__name__}: {e})") from None
    if model is None:
        raise FileFormatError(f"{path}: tensors do not match the architecture in the header: it has {weights:,} weight "
                              f"layer{'s' * (weights != 1)}, the file holds {len(shapes):,} "
                              f"tensor{'s' * (len(shapes) != 1)}")  # '1 tensors' read oddly
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if shapes != expected:
        raise FileFormatError(f"{path}: tensors do not match the architecture in the header: "
                              f"{_shape_mismatch(shapes, expected)}")
    try:
        state = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise FileFormatError(f"{path}: cannot read tensors ({e})") from None
    problem = _misfit(shapes, expected, {k: v.dtype for k, v in state.items()})
    if problem:
        raise FileFormatError(f"{path}: {problem}")
    try:
        # assign=True keeps the stored tensors themselves, so a float64/float16 network stays bit-exact (and
        # replaces the meta-device placeholders). Module by module (their keys matched above): torch's own walk
        # filters every key for every child, quadratic in the layers (10,000 Linear layers: a minute)
        modules = dict(model.named_modules())
        by_module: dict[str, dict[str, torch.Tensor]] = {}
        for k, t in state.items():
            owner, _, name = k.rpartition(".")
            by_module.setdefault(owner, {})[name] = t
        for owner, sub in by_module.items():
            modules[owner].load_state_dict(sub, strict=False, assign=True)  # all keys are there: checked above
    except RuntimeError as e:
        raise FileFormatError(f"{path}: tensors do not match the architecture in the header: {e}") from None
    return model.eval()


def _checked_layers(d: Any) -> tuple[int, int]:
    """:func:`_spec_layers` of a spec to be read (a file's header, a zoo row), or an ArchError when it has more than
    :data:`MAX_LAYERS` layers."""
    layers, weights = _spec_layers(d)
    if layers > MAX_LAYERS:
        raise ArchError(f"it has {layers:,} layers; metanet reads networks of at most {MAX_LAYERS:,}")
    return layers, weights


def _spec_layers(d: Any) -> tuple[int, int]:
    """(layers, weight layers) of the architecture spec ``d`` as its JSON gives it, counted without building it;
    (0, 0) for what is no spec (:func:`from_spec` names the problem)."""
    if not isinstance(d, dict):
        return 0, 0
    if d.get("family") == "sequential":
        layers = d.get("layers")
        if not isinstance(layers, list):
            return 0, 0
        return len(layers), sum(isinstance(x, dict) and x.get("type") in ("linear", "conv2d") for x in layers)
    widths = d.get("widths")  # mlp / cnn: a Linear or Conv2d between each two widths
    n = len(widths) - 1 if isinstance(widths, list) and widths else 0
    return n, n


def _not_a_network(path: Path, header: dict[str, str]) -> str:
    """Why a safetensors file without 'metanet.spec' is no network, and what reads it: a zoo shard or a
    reader/writer checkpoint got the same generic message as any foreign file."""
    if "metanet.zoo" in header:  # written by metanet.zoo.build: '<id>/<param>' tensors of many networks
        try:
            with _utf8_name(path) as name, safe_open(name, framework="pt") as f:
                ids = sorted({int(k.split("/", 1)[0]) for k in f.keys() if k.split("/", 1)[0].isdigit()})
        except (SafetensorError, OSError, ValueError):
            ids = []
        shown = ", ".join(map(str, ids if len(ids) <= 6 else [*ids[:3], "...", ids[-1]]))
        held = f"{len(ids)} networks (ids {shown})" if ids else "many networks"
        zoo = path.parent.parent if path.parent.name == "shards" else Path("ZOO_DIR")
        return (f"{path} is a zoo shard holding {held}, not one network; load one with "
                f"metanet.Zoo({str(zoo)!r}).load(id)")
    kind = header.get("metanet.kind")
    if kind in ("reader", "writer"):  # metanet.checkpoints.save_module
        return (f"{path} is a metanet {kind} checkpoint, not a network; load it with "
                f"metanet.{kind.capitalize()}.load(path)")
    return (f"{path} is a safetensors file without a metanet architecture header ('metanet.spec'); "
            "save networks with metanet.save(model, path)")


def _shape_mismatch(got: dict[str, tuple[int, ...]], want: dict[str, tuple[int, ...]]) -> str:
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    if missing or extra:
        return f"missing {missing[:4]}, unexpected {extra[:4]} (expected {sorted(want)[:6]})"
    k = next(k for k in sorted(want) if got[k] != want[k])
    return f"{k} has shape {list(got[k])}, the architecture needs {list(want[k])}"
