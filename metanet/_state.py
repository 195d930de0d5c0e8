"""Torch global state that metanet's entry points run under, whatever the caller set.

metanet's networks, readers and writers compute in float32: under ``torch.set_default_dtype(torch.float64)``
the tensors an entry point makes (random draws, masks, starting weights) came out float64 next to float32 weights
('expected scalar type Float but found Double'). Entry points that train (a gradient step, a trigger search) also
need grad mode, which a caller inside ``torch.no_grad()`` had switched off ('element 0 of tensors does not require
grad'). Both are set for the call only and given back on exit (also after an error or a Ctrl-C); with torch's
defaults nothing changes.

Threads. torch's default dtype, its thread count and its global random number generator belong to the process,
not to a thread (grad mode and ``torch.device`` contexts are per thread). Saved and restored by two threads at once,
they interleaved: thread B saved the float32 thread A had set, A gave the caller's float64 back while B still
computed, and B "restored" float32 for good; two ``build(arch, seed)`` calls drew from each other's seeded streams.
So the sections that change them (:func:`metanet_defaults`, :func:`forked_rng`, hence generate, read, refine,
improve, loading a reader or writer) hold one process-wide re-entrant lock: metanet's calls from several threads
run one at a time and give the single-threaded results. What a lock cannot do, the state being global: while one
thread is inside such a call, the program's OTHER threads (those not calling metanet) see float32 as the default
dtype, must not set another one, and must not draw from torch's global RNG (their draws are rewound when the call's
fork of the RNG ends, and a draw in the middle of ``build(arch, seed)`` changes its weights): give those threads
explicit ``dtype=`` arguments and a ``torch.Generator`` of their own.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import torch

__all__ = ["metanet_defaults", "with_metanet_defaults", "forked_rng", "kept_modes", "physical_memory",
           "out_of_memory_as", "user_stacklevel", "drop_generated_source", "cpu_default", "torch_threads"]

F = TypeVar("F", bound=Callable)


#: held while metanet has torch's process-global state (default dtype, global RNG) changed; re-entrant, as entry
#: points call one another (generate verifies, refine generates)
_LOCK = threading.RLock()


def _lock_after_fork() -> None:
    # a fork (a DataLoader worker, multiprocessing) while ANOTHER thread of the parent was inside a metanet call:
    # that thread does not exist in the child, which waited for it forever at its first metanet call. The forking
    # thread's own hold is kept (it leaves its `with` in the child too).
    lock = _LOCK
    if hasattr(lock, "_at_fork_reinit") and not lock._is_owned():
        lock._at_fork_reinit()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_lock_after_fork)


@contextmanager
def cpu_default() -> Iterator[None]:
    """Run with the cpu as torch's default device, where metanet computes: under ``torch.set_default_device``
    (``"cuda"``, ``"meta"``) or ``with torch.device(...)`` its own tensors (random draws, masks, loaded checkpoints,
    graphs) were made on that device, next to cpu data (an IndexError, 'not on the expected device', a checkpoint
    loaded as meta tensors). Nothing changes when the default already is the cpu."""
    if torch.get_default_device().type == "cpu":
        yield
        return
    with torch.device("cpu"):
        yield


@contextmanager
def _full_float32_precision() -> Iterator[None]:
    """float32 matmuls and convolutions on the cpu in full float32 inside ("medium" / "high", or torch >= 2.9's
    ``torch.backends.mkldnn.matmul.fp32_precision = "bf16"``, let oneDNN run them in bfloat16 / TensorFloat32:
    every number changed); the caller's settings after. Nothing is written where they already are full float32.

    torch >= 2.9 keeps them per backend (``torch.backends.mkldnn.matmul``, which ``"medium"`` sets, and ``.conv``)
    and its ``torch.get_float32_matmul_precision()`` raises once that API set what the legacy name cannot express
    ('mix of the legacy and new APIs'): every metanet call was that RuntimeError for a caller who had set
    ``torch.backends.cuda.matmul.fp32_precision = "tf32"``; and ``set_float32_matmul_precision("highest")`` wrote
    "ieee" over the caller's "none" (inherit), so a later ``torch.backends.mkldnn.fp32_precision = "bf16"`` no
    longer reached matmuls."""
    mkldnn = getattr(torch.backends, "mkldnn", None)
    try:
        leaves = [(leaf, leaf.fp32_precision) for leaf in (mkldnn.matmul, mkldnn.conv)]
    except AttributeError:  # torch < 2.9: the legacy setting alone
        precision = torch.get_float32_matmul_precision()
        if precision == "highest":
            yield
            return
        try:
            torch.set_float32_matmul_precision("highest")
            yield
        finally:
            torch.set_float32_matmul_precision(precision)
        return
    reduced = [(leaf, p) for leaf, p in leaves if p not in ("none", "ieee")]
    try:
        for leaf, _ in reduced:
            leaf.fp32_precision = "ieee"
        yield
    finally:
        for leaf, p in reduced:
            # the getter reads through "none" to the backend's or the global value: the caller's own "none" is
            # kept where it gives their value (they set it there), else their value itself
            leaf.fp32_precision = "none"
            if leaf.fp32_precision != p:
                leaf.fp32_precision = p


@contextmanager
def metanet_defaults(grad: bool = False) -> Iterator[None]:
    """float32 as torch's default dtype, the cpu as its default device, full float32 matmuls and convolutions
    (:func:`_full_float32_precision`), cpu autocast off, inference mode off (grad mode stays off if it was on,
    unless ``grad``), and grad mode on with ``grad``, inside; the caller's state after. Holds metanet's lock of
    torch's global state: another thread's metanet call waits (see the module's docstring)."""
    with _LOCK, contextlib.ExitStack() as stack:
        old = torch.get_default_dtype()
        try:  # both set inside the try: a Ctrl-C between them left the caller's default dtype float32 for good
            torch.set_default_dtype(torch.float32)
            stack.enter_context(_full_float32_precision())
            stack.enter_context(cpu_default())
            # a caller's torch.autocast("cpu") ran metanet's float32 computations in bfloat16 / float16: generate
            # under bf16 autocast was a raw TypeError, under fp16 it wrote other weights (0.9611 for 0.9639)
            stack.enter_context(torch.autocast("cpu", enabled=False))
            if torch.is_inference_mode_enabled():
                # tensors made in inference mode cannot take part in autograd, and enable_grad does not leave it: a
                # gradient step failed with 'does not require grad', and a reader first loaded there (its weights
                # inference tensors) could not run read()'s trigger scan. Off for the call; grad mode as it was
                stack.enter_context(torch.inference_mode(False))
                stack.enter_context(torch.set_grad_enabled(grad))
            elif grad:
                stack.enter_context(torch.enable_grad())
            yield
        finally:
            torch.set_default_dtype(old)


@contextmanager
def forked_rng() -> Iterator[None]:
    """``torch.random.fork_rng`` of the cpu generator under metanet's lock of torch's global state: inside, the
    global RNG may be seeded and drawn from, and it is as the caller left it after. Without the lock two threads'
    forks interleaved (one thread's draws came from the other's seed, and the state given back was the other's)."""
    with _LOCK, torch.random.fork_rng(devices=[]):
        yield


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch's intra-op thread count is ``n`` inside the block, the caller's again after it (also after an error or
    an interrupt): a command's ``--threads`` left a program calling it on that count for good."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextmanager
def kept_modes(module: torch.nn.Module, eval: bool = False) -> Iterator[torch.nn.Module]:
    """Every submodule of ``module`` gets the training mode it had back when the block ends (normally or by an
    error); with ``eval``, the block runs ``module`` in eval mode (no dropout, BatchNorm's running statistics)."""
    modes = [(m, m.training) for m in module.modules()]
    try:
        if eval:
            module.eval()
        yield module
    finally:
        for m, training in modes:
            m.training = training


def with_metanet_defaults(grad: bool = False) -> Callable[[F], F]:
    """Decorator: run the function under :func:`metanet_defaults` (signature and docstring kept)."""

    def wrap(f: F) -> F:
        @functools.wraps(f)
        def inner(*args, **kwargs):
            with metanet_defaults(grad):
                return f(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def outside_inference_mode(init: Callable[..., None]) -> Callable[..., None]:
    """Decorator of a module's ``__init__``: its parameters and buffers are made outside the caller's
    ``torch.inference_mode()`` (grad mode as it was), as ``Writer.load`` / ``Reader.load`` make them (under
    :func:`metanet_defaults`). Made inside, they were inference tensors: a Lightning fit of the module failed at its
    first step ('Inference tensors cannot be saved for backward', 'Inplace update to inference tensor outside
    InferenceMode')."""

    @functools.wraps(init)
    def run(self, *args, **kwargs) -> None:
        if not torch.is_inference_mode_enabled():
            return init(self, *args, **kwargs)
        with torch.inference_mode(False), torch.no_grad():  # inference_mode(False) alone turns grad mode on
            return init(self, *args, **kwargs)

    return run


def physical_memory() -> int | None:
    """This machine's memory in bytes, or None where ``os.sysconf`` cannot tell (Windows): the bound of the
    up-front size checks (K candidates, a perturbation population) that would otherwise run out of memory late."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_fits_memory(what: str, parameters: int, hint: str, error: type[Exception] | None = None) -> None:
    """``error`` (default :class:`~metanet.errors.ConfigError`) when ``parameters`` float32 values cannot fit this
    machine's memory (without its size: 2**63 bytes): a meta-network of ``hidden=10**30`` was a raw TypeError from
    ``torch.empty``, ``layers=10**30`` built layers until memory ran out, ``candidates=10**8`` built starting networks
    for minutes. The message reads ``"{what} need about ... GiB, more than this machine's ...; {hint}"``: ``what``
    names the values (``"the parameters of a Reader of hidden=8"``), ``hint`` what to give instead."""
    from metanet.errors import ConfigError

    ram, need = physical_memory(), 4 * parameters
    if need > (ram if ram is not None else 2**63):
        raise (error or ConfigError)(
            f"{what} need about {parameters:,} float32 values, {need / 2**30:,.1f} GiB, more than this machine's "
            f"{'memory' if ram is None else f'{ram / 2**30:,.1f} GiB of memory'}; {hint}")


@contextmanager
def out_of_memory_as(error: Callable[[], Exception]) -> Iterator[None]:
    """Inside, running out of memory (torch's allocator raises a RuntimeError, Python a MemoryError) raises
    ``error()`` instead: a user's size too large for this machine is a clear error naming it, not a crash."""
    try:
        yield
    except (RuntimeError, MemoryError) as e:
        if isinstance(e, RuntimeError) and "can't allocate memory" not in str(e):
            raise
        raise error() from None


def user_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` made by the caller of this function that attributes the warning to
    the user's code: the first frame outside metanet (and torch's / functools' call wrappers). A fixed level pointed
    into metanet when the same function was reached by another path (``Reader.load`` from ``read(reader=path)``
    named predict.py); Python 3.12's ``skip_file_prefixes`` does this, the venv may be older."""
    import sys

    level, f = 1, sys._getframe(1)
    while f is not None:
        mod = str(f.f_globals.get("__name__", ""))
        if not (mod == "metanet" or mod.startswith(("metanet.", "torch.utils._contextlib", "functools",
                                                    "contextlib"))):
            return level
        level, f = level + 1, f.f_back
    return level


def drop_generated_source(conv: torch.nn.Module) -> None:
    """Delete the temporary ``.py`` file PyG wrote the generated ``propagate`` of ``conv``'s class to.

    PyG renders a faster ``propagate`` for each ``MessagePassing`` class once per process, writes it to a temporary
    file, imports it and never deletes the file: two files were left in the temporary folder by every process that
    read or wrote a network. The imported module no longer needs its file (only tracebacks into it lose their
    source lines); PyG's own generic ``propagate``, which writes nothing, ran the reader twice as slowly.
    """
    import sys
    import tempfile

    module = sys.modules.get(getattr(type(conv).propagate, "__module__", "") or "")
    path = getattr(module, "__file__", None)
    if path and os.path.dirname(path) == tempfile.gettempdir():  # PyG's file, not a module of anyone's package
        try:
            os.unlink(path)
        except FileNotFoundError:  # deleted when the class's first instance was built
            pass
