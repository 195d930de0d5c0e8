"""`verify`: run networks on a task's held-out data and score them.

A list of K networks of one architecture is evaluated in one vectorised pass: their parameters are stacked
(as ``torch.func.stack_module_state`` does) and the forward pass is ``vmap``-ed over the stack, so K small networks
cost about as much as one wide one.
"""

from __future__ import annotations

import collections
import copy
import math
import numbers
import os
import sys
import time
from collections import abc
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence, Union, overload

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, vmap

from metanet._state import kept_modes, out_of_memory_as, physical_memory, with_metanet_defaults
from metanet.errors import ArchError, ConfigError, MetanetError, TaskError
from metanet.nets.arch import cnn_input_hint
from metanet.tasks import resolve
from metanet.tasks.examples import examples_split
from metanet.tasks.resolve import as_examples, is_examples, task_name, unpack_dataset

__all__ = ["Report", "verify", "verify_stacked", "check_fits", "check_weights"]


class _HasModel(Protocol):
    """metanet.generate's result, as a type checker sees it: what has a ``model``."""

    @property
    def model(self) -> nn.Module: ...


# one network as verify() takes it (a NeuralGraph too: PyG is untyped, so a type checker lets it pass as one)
Network = Union[nn.Module, str, bytes, os.PathLike, _HasModel]


@dataclass
class Report:
    """What running a network on labelled data measured.

    Attributes:
        accuracy: top-1 accuracy in [0, 1]; an example whose logits include a NaN or an infinity has no prediction
            and counts as wrong.
        loss: mean cross-entropy (``inf`` when the network produced NaN/inf logits).
        per_class: accuracy on each class's examples, counted as ``accuracy`` is (NaN for a class absent from the
            split).
        n: number of examples.
        seconds: wall time of the evaluation (shared by all models of a batched call).
        task: task name; split: which split was used.
        extra: what other code records beside the scores (empty from :func:`verify`; e.g. the loop's
            ``failed``: why a candidate could not be verified, :func:`~metanet.loop.refine`'s ``method`` and
            ``seconds_refine`` on its ``after`` report).
    """

    accuracy: float
    loss: float
    per_class: list[float]
    n: int
    seconds: float
    task: str = ""
    split: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The report as a plain dict of its fields (``extra`` included)."""
        return asdict(self)

    def __str__(self) -> str:
        pc = " ".join(f"{a:.2f}" if not math.isnan(a) else "-" for a in self.per_class)
        return (
            f"{self.task}/{self.split}: accuracy {self.accuracy:.4f}  loss {self.loss:.4f}  n={self.n}  "
            f"({self.seconds * 1000:.0f} ms)\n  per class: {pc}"
        )


def check_fits(model: nn.Module, input_shape: tuple[int, ...], num_classes: int, where: str = "",
               at_least: bool = False) -> None:
    """Raise ArchError unless ``model`` maps one example of ``input_shape`` to ``num_classes`` logits (with
    ``at_least``: to ``num_classes`` or more, for bare labels ``0..num_classes-1`` that need not use every class)."""
    _fits(model, input_shape, num_classes, where, at_least)


def _fits(model: nn.Module, input_shape: tuple[int, ...], num_classes: int, where: str = "",
          at_least: bool = False) -> tuple[int, int]:
    """:func:`check_fits`, returning the numbers per example in the largest output of any of ``model``'s layers
    (at least the example's own): the activations one example costs each network, measured on the same probe; and
    the network's number of outputs (classes)."""
    check_weights(model)
    arch = getattr(model, "arch", None)
    if arch is not None and not arch.fits(tuple(input_shape)):
        raise _misfit(str(arch), arch.family, arch.in_size, tuple(input_shape), where)
    conv = _first_conv(model) if arch is None else None
    if conv is not None and not (len(input_shape) == 3 and input_shape[0] == conv.in_channels):
        # a plain nn.Sequential CNN: torch's own error named neither what the network reads nor a fix (for mnist1d's
        # (1, 40): "Calculated output size: (6x0x20). Output size is too small")
        name = f"nn.Sequential starting with Conv2d {conv.in_channels}->{conv.out_channels}"
        raise _misfit(name, "cnn", conv.in_channels, tuple(input_shape), where)
    p = next(iter(model.parameters()), None)
    # two examples: a BatchNorm without running stats normalises by the batch's even in eval mode, and refused one
    probe = torch.zeros(2, *input_shape, dtype=p.dtype if p is not None else torch.float32)
    # in eval mode: a train-mode BatchNorm would update the caller's running stats
    sizes = [math.prod(input_shape)]

    running: list[tuple[nn.Module, Any]] = []  # the modules being run, outermost first, with their input
    # each error with the innermost module it left: the top of `running` was a child whose error its parent caught
    failed: list[tuple[BaseException, nn.Module, Any]] = []
    by_hook: list[BaseException] = []  # raised by a forward hook of a module whose forward had returned
    by_pre_hook: list[BaseException] = []  # raised by a forward pre-hook of the module it left
    begun: list[bool] = []  # per entry of `running`: every pre-hook of it has run (its forward was called)
    outer = sys.exc_info()[1]  # one the caller is handling (check_fits called in an except block): not the probe's

    def enter(m, inputs):  # prepended: before the user's pre-hooks, so one of theirs raising is pinned on m
        running.append((m, inputs[0] if inputs else None))
        begun.append(False)

    def begin(m, inputs):  # after the user's pre-hooks: the inputs (as they may have changed them) m's forward gets
        if running and running[-1][0] is m:
            running[-1] = (m, inputs[0] if inputs else None)
            begun[-1] = True

    def size(m, _inputs, out):  # always_call: also as an error leaves m (its forward's, or a hook's after it)
        if isinstance(out, Tensor):  # per example
            sizes.append(out.numel() // len(probe))
        if running and running[-1][0] is m:  # not when a pre-hook before `enter` failed
            _, x = running.pop()
            started = begun.pop()
            err = sys.exc_info()[1]
            # not `out is None` alone: a user's forward hook raising leaves m with its output, and named no layer
            if err is not None and err is not outer and not any(e is err for e, _, _ in failed):
                failed.append((err, m, x))
                if out is not None:
                    by_hook.append(err)
                elif not started:
                    by_pre_hook.append(err)

    hooks = [h for m in model.modules()
             for h in (m.register_forward_pre_hook(enter, prepend=True), m.register_forward_pre_hook(begin),
                       m.register_forward_hook(size, always_call=True))]
    try:
        with kept_modes(model, eval=True), torch.no_grad():
            out = model(probe)
    except MetanetError:
        raise
    except (RuntimeError, ValueError, TypeError, IndexError) as e:  # e.g. an LSTM's ValueError on 4-d inputs
        # a hook's error is no misfit of the inputs: "does not accept inputs" sent the user to the wrong place
        what = ("a forward hook raised on inputs" if any(h is e for h in by_hook)
                else "a forward pre-hook raised on inputs" if any(h is e for h in by_pre_hook)
                else "network does not accept inputs")
        raise ArchError(
            f"{what} of shape {tuple(input_shape)} from {where or 'the data'}"
            f"{_failing_module(model, [(m, x) for err, m, x in failed if err is e])}: {str(e).splitlines()[0]}"
        ) from None
    finally:
        for h in hooks:
            h.remove()
    if not isinstance(out, torch.Tensor):
        raise ArchError(f"network returns {type(out).__name__}, not a tensor of logits")
    if out.dim() >= 1 and out.shape[0] != len(probe):
        # a forward that pools or reshapes over the batch (x.mean(0), x.view(1, -1)): scoring it was a raw ValueError
        raise ArchError(f"network maps a batch of {len(probe)} examples to outputs of shape {tuple(out.shape)}; "
                        "its forward must keep the batch dimension: one row of logits per example, (N, classes)")
    if at_least and out.dim() == 2 and out.shape[1] < num_classes:
        raise ArchError(f"network outputs {out.shape[1]} classes per example (labels 0..{out.shape[1] - 1}), but "
                        f"{where or 'the data'} has labels up to {num_classes - 1}")
    if out.dim() != 2 or (out.shape[1] != num_classes and not at_least):
        raise ArchError(
            f"network outputs shape {tuple(out.shape[1:])} per example, but {where or 'the data'} has {num_classes} classes"
        )
    return max(sizes), out.shape[1]


def _failing_module(model: nn.Module, running: list[tuple[nn.Module, Any]]) -> str:
    """", at module NAME (LAYER), which gets inputs of shape S per example": the innermost module that the probe's
    error left, ``running[-1]`` (torch's "mat1 and mat2 shapes cannot be multiplied (1x8 and 16x16)" named no layer of
    the user's network); "" when that is the network itself or a module outside it."""
    if not running or running[-1][0] is model:
        return ""
    m, x = running[-1]
    name = next((n for n, sub in model.named_modules() if sub is m), None)
    if not name:
        return ""
    got = f", which gets inputs of shape {tuple(x.shape[1:])} per example" if isinstance(x, Tensor) else ""
    layer = type(m).__name__ if next(m.children(), None) is not None else repr(m)  # a block's repr lists it all
    return f", at module {name} ({layer}){got}"


def _first_conv(model: nn.Module) -> nn.Conv2d | None:
    """The first layer of a plain ``nn.Sequential`` when it is a ``Conv2d`` (the network reads images as they come),
    else None (a layer before it, e.g. an ``nn.Unflatten``, may reshape its inputs)."""
    if type(model) is not nn.Sequential or len(model) == 0:
        return None
    first = model[0]
    return first if type(first) is nn.Conv2d else None


def _misfit(name: str, family: str, in_size: int, shape: tuple[int, ...], where: str) -> ArchError:
    """The error for inputs of ``shape`` that network ``name`` (an mlp of ``in_size`` features, or a cnn of
    ``in_size`` channels) cannot read, with how to give them when that can be told."""
    plural = "s" * (in_size != 1)  # "1 input channels" was the message for a 1-channel CNN
    what = f"{in_size} input feature{plural}" if family == "mlp" else f"{in_size} input channel{plural}"
    hint = ""
    if family == "cnn" and len(shape) != 3:
        what = f"images (C, H, W) with {in_size} input channel{plural}"
        told = cnn_input_hint(in_size, shape)
        hint = f"; {told}" if told else ""
    if family == "cnn" and len(shape) == 3 and shape[2] == in_size < shape[0]:
        hint = ("; these look channels last (N, H, W, C): give them channels first, (N, C, H, W): "
                "x.permute(0, 3, 1, 2)")
    return ArchError(f"network {name} expects {what}, but {where or 'the data'} has inputs of shape {shape}{hint}")


def _chunk(batch: int, k: int, widest: int, itemsize: int) -> int:
    """Examples per vmapped forward pass, ``batch`` or fewer: K networks' activations (about three layers' outputs
    alive at once) on a quarter of this machine's memory at most, by halving (so chunks tile each batch).
    ConfigError when one example is already more than the machine has."""
    ram = physical_memory()
    per_example = 3 * k * widest * itemsize
    if ram is None or batch * per_example <= ram // 4:
        return batch
    if per_example > ram:
        raise ConfigError(f"verifying {k:,} networks at once needs about {per_example / 2**30:,.1f} GiB of "
                          f"activations per example (layers of up to {widest:,} numbers), more than this machine's "
                          f"{ram / 2**30:,.1f} GiB; verify fewer networks at a time")
    while batch > 1 and batch * per_example > ram // 4:
        batch = -(-batch // 2)
    return batch


#: what :func:`predicted` gives a row of logits that predicts nothing: no class's index
NO_PREDICTION = -1


def predicted(logits: Tensor) -> Tensor:
    """The predicted class of every row of ``logits`` (argmax over the last dimension), or :data:`NO_PREDICTION`
    for a row with a NaN or infinite logit, as :func:`verify` counts it: such a row is right on no label, hits no
    attack target and agrees with no other row (argmax took NaN for the largest value: all-NaN logits were class 0).
    Comparing with labels needs nothing more; agreement between two predictions must also exclude NO_PREDICTION."""
    return logits.argmax(-1).masked_fill_(~torch.isfinite(logits).all(-1), NO_PREDICTION)


def _scores(logits: Tensor, y: Tensor, num_classes: int) -> tuple[Tensor, Tensor, Tensor]:
    """Per-model (correct count, summed loss, per-class correct) for logits (K, n, C). A row with a NaN or infinite
    logit predicts nothing and counts as wrong (argmax took NaN for the largest value: all-NaN logits were class 0)."""
    k = logits.shape[0]
    finite = torch.isfinite(logits).all(dim=(1, 2))
    if logits.dtype not in (torch.float32, torch.float64):
        # a half-precision network's logits: the summed loss overflowed float16 (inf for finite logits past 65504)
        logits = logits.float()
    correct = predicted(logits) == y  # (K, n)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.repeat(k), reduction="none").view(k, -1).sum(1)
    loss = torch.where(finite, loss, torch.full_like(loss, math.inf))
    per_class = torch.zeros(k, num_classes, dtype=torch.float64).index_add_(1, y, correct.double())
    return correct.sum(1), loss.double(), per_class


def meta_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with its parameters and buffers on the meta device (shapes only), for
    ``functional_call`` to run on other values. Weights tied in ``module`` (one Parameter in two layers) stay tied in
    the copy: ``.to("meta")`` alone untied them (it gives each layer a new Parameter), so the layer whose weight
    ``named_parameters()`` lists under the other name kept a meta weight, and the forward pass silently read
    uninitialised memory (a wrong, varying accuracy). Only registered tensors are moved: a reference kept elsewhere
    (in a plain list) stays a copy of its values, as it was."""
    try:
        base = copy.deepcopy(module).to("meta")
    except RuntimeError as e:  # torch's "Only Tensors created explicitly by the user (graph leaves) support ..."
        if "__deepcopy__() for" in str(e):  # not "graph leaves": a tensor subclass's Parameter is a leaf
            raise ArchError(f"cannot copy this {type(module).__name__} to run it: it holds a tensor subclass that "
                            "torch cannot deep-copy; implement new_empty() (or __deepcopy__) for that subclass, or "
                            "keep plain tensors") from None
        if "view was created in no_grad mode" in str(e):  # e.g. [w.t()] kept, then w changed in place
            raise ArchError(f"cannot copy this {type(module).__name__} to run it: an attribute holds a view of a "
                            "tensor made under torch.no_grad() whose base was changed in place since; make the view "
                            "again after changing the weights, or in forward") from None
        if "graph leaves" not in str(e):
            raise
        raise ArchError(f"cannot copy this {type(module).__name__} to run it: an attribute holds a tensor computed "
                        "with gradients (not a graph leaf); compute it in forward, or keep it detached "
                        "(.detach(), or made under torch.no_grad())") from None
    copies = dict(base.named_modules())
    first: dict[int, tuple[str, str, str]] = {}  # id of the caller's tensor -> where it is registered first
    for name, m in module.named_modules():
        for kind in ("_parameters", "_buffers"):
            for key, t in getattr(m, kind).items():
                if t is None:
                    continue
                if id(t) in first:  # tied: the copy's slot gets the copy's tensor of its first place
                    at, at_kind, at_key = first[id(t)]
                    getattr(copies[name], kind)[key] = getattr(copies[at], at_kind)[at_key]
                else:
                    first[id(t)] = (name, kind, key)
    return base


def copy_network(module: nn.Module, *, grad: bool = False) -> nn.Module:
    """``copy.deepcopy(module)`` that keeps the network's behaviour where deepcopy alone does not.

    A layer that ``torch.nn.utils.prune`` or the hook-based ``weight_norm`` has just set up leaves the weight it
    computed (a non-leaf tensor) in a plain attribute, which torch refuses to deepcopy: it is copied detached (the
    hook recomputes it at every call). A tensor kept outside the registered slots on a parameter's or buffer's memory
    (a view ``[w.t()]`` made under ``torch.no_grad()``, ``[w.data]``, ``[w.detach()]``) stays on the copy's tensor:
    deepcopy cloned a Parameter apart from its storage, so the copy's forward read the old values through it (a
    pruned copy ran unpruned, its report measuring that), and a stale ``no_grad`` view raised torch's RuntimeError.
    Such a tensor is a new one on the copied memory, not the module's view; with ``grad``, one made with autograd
    recording (``[w.t()]`` not under no_grad) is a view of the copy's weight with grad, so that backprop through the
    copy's forward reaches that weight (detached, refine's sgd left it as it was), though verify refuses such a copy
    (a tensor computed with gradients)."""
    held = [t for t in _held(module) if _storage(t)]
    # made anew below, not detached: a detached clone of a view made with grad (self.wt = w.t()) kept the old values
    # in the copy, and is_leaf raised for a no_grad one whose weight had changed since
    on_weights = {id(t) for t in held}
    memo: dict[int, Any] = {id(t): t.detach().clone() for m in module.modules() for t in vars(m).values()
                            if isinstance(t, Tensor) and id(t) not in on_weights and not t.is_leaf}
    if not held:
        return copy.deepcopy(module, memo)
    ids = {id(t) for m in module.modules() for d in (m._parameters, m._buffers) for t in d.values() if t is not None}
    shared = {_storage(t) for t in held}
    storages: dict[int, Any] = {}  # the caller's storage address -> the copy's storage

    def on_copy(t: Tensor) -> Tensor:
        if _storage(t) not in storages:
            storages[_storage(t)] = t.untyped_storage().clone()
        return torch.empty(0, dtype=t.dtype, device=t.device).set_(storages[_storage(t)], t.storage_offset(),
                                                                   t.size(), t.stride())

    for m in module.modules():
        for d in (m._parameters, m._buffers):
            for t in d.values():
                if t is not None and _storage(t) in shared and id(t) not in memo:
                    if type(t) is nn.Parameter:
                        memo[id(t)] = nn.Parameter(on_copy(t), t.requires_grad)
                    elif type(t) is Tensor:
                        memo[id(t)] = on_copy(t)
                    else:  # a subclass: its own __deepcopy__ (its type), moved onto the copied memory; left
                        new = copy.deepcopy(t, memo)  # apart from it, the copy's forward read the old values (a view)
                        # not one its __deepcopy__ shares (returns self): .data moved the caller's weight onto the
                        # copy's memory, apart from the caller's own view
                        if new is not t:
                            try:
                                new.data = on_copy(t)
                            except (AttributeError, RuntimeError, TypeError):  # refused: left as deepcopy made it
                                pass
                        memo[id(t)] = new
    bases = {_storage(t): memo[id(t)] for m in module.modules() for t in m._parameters.values()
             if t is not None and id(t) in memo and t.requires_grad}
    for t in held:
        if id(t) not in ids and id(t) not in memo:  # a view: made anew, not deep-copied (a stale one raised)
            base = bases.get(_storage(t))
            if grad and base is not None and base.dtype == t.dtype and _made_with_grad(t):
                with torch.enable_grad():  # a view of the copy's weight, as the caller's is of theirs
                    memo[id(t)] = base.as_strided(t.size(), t.stride(), t.storage_offset())
            else:
                memo[id(t)] = on_copy(t)
    return copy.deepcopy(module, memo)


def _made_with_grad(t: Tensor) -> bool:
    """Whether ``t`` was computed with autograd recording (a view ``w.t()`` made with grad), not under no_grad."""
    try:
        return t.grad_fn is not None
    except RuntimeError:  # a no_grad view whose base was changed in place since
        return False


def stacked_forward(run: Callable[..., Tensor], in_dims: tuple[int | None, ...]) -> Callable[..., Tensor]:
    """``vmap(run, in_dims)`` over dicts of stacked tensors (``in_dims`` 0) and shared arguments (None); once an op
    in ``run`` has no vmap rule (an LSTM's, a GRU's: a raw RuntimeError 'Batching rule not implemented'), ``run``
    on each member of the stack in turn, their outputs stacked, for that call and every later one."""
    batched = vmap(run, in_dims=in_dims)
    looped = False

    def one_by_one(*args: Any) -> Tensor:
        k = next(len(next(iter(a.values()))) for a, d in zip(args, in_dims) if d == 0 and a)
        return torch.stack([run(*({n: v[i] for n, v in a.items()} if d == 0 else a for a, d in zip(args, in_dims)))
                            for i in range(k)])

    def forward(*args: Any) -> Tensor:
        nonlocal looped
        if not looped:
            try:
                return batched(*args)
            except RuntimeError as e:
                if "Batching rule not implemented" not in str(e):
                    raise
            looped = True
        return one_by_one(*args)

    return forward


@torch.no_grad()
def verify_stacked(
    module: nn.Module,
    params: dict[str, Tensor],
    task,
    split: str = "test",
    batch_size: int = 4096,
    data: tuple[Tensor, Tensor] | None = None,
    buffers: dict[str, Tensor] | None = None,
) -> list[Report]:
    """Verify a population given as stacked parameters: ``params[name]`` has shape ``(K, *param.shape)``.

    ``module`` supplies the architecture (its own parameter values are ignored) and, unless ``buffers`` (stacked
    the same way) gives each member its own, the buffers (e.g. BatchNorm running statistics) of every member.
    The networks run in eval mode (dropout off, BatchNorm on its running statistics), whatever mode ``module`` is
    in. ``data=(x, y)`` overrides the task's split (e.g. a held-out query set). A ``task`` of labelled examples
    ``(x, y)`` or a ``Dataset`` of pairs (without ``data``) is scored as :func:`verify` scores one: labels any of the
    network's classes. A ``module`` that also keeps a parameter or buffer outside its registered place (in a plain
    Python list its forward reads) runs each member on itself, one at a time (:func:`in_place_forward`), not
    vectorised.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive number of examples, got {batch_size!r}")
    # labelled examples of some of the network's classes (its 3s and 8s): split as from_examples splits them, but
    # not made a Task, which needs every class 0..k-1; scored on the network's classes, NaN for the absent ones
    task = unpack_dataset(task) if data is None else task  # a Dataset of (input, label) pairs: its (x, y)
    examples = data is None and is_examples(task)
    if examples:
        name, x, y, classes = examples_split(*task, split)  # their largest label, plus 1
        t0 = time.perf_counter()
    else:
        if data is None or isinstance(task, (str, tuple)):  # with data, any object with name and num_classes will do
            task = resolve(task)
        t0 = time.perf_counter()
        name = task_name(task)  # an object with split and num_classes may have none: its type's name, as generate says
        # numpy arrays, uint8 images 0..255, int32 labels: as a Task gives them (else raw torch errors)
        x, y = as_examples(*data, "the data given to verify") if data is not None else task.split(split)
        classes = task.num_classes
    if len(y) == 0:
        raise TaskError(f"split {split!r} of task {name!r} has no examples to verify on; use another split or a "
                        "task with examples in it")
    # else a raw IndexError; a Task's labels are in range, but not those of any object with split and num_classes
    if not examples and (int(y.min()) < 0 or int(y.max()) >= classes):
        what = f"task {name!r}"
        where = "the data given to verify" if data is not None else f"split {split!r} of {what}"
        raise TaskError(f"{where} has labels {int(y.min())}..{int(y.max())}, but {what} has {classes} "
                        f"classes (labels 0..{classes - 1})")
    # examples: a network of fewer outputs than their largest label + 1 is refused (at_least), naming its labels
    widest, outputs = _fits(module, tuple(x.shape[1:]), classes, where=f"task {name!r}", at_least=examples)
    num_classes = outputs if examples else classes
    # a network without parameters (e.g. one of fixed pooling, or prototypes kept as buffers) is a population too
    stack = params or buffers or {}
    k = next(iter(stack.values())).shape[0] if stack else 1
    base = meta_copy(module).eval()  # verification is inference: no dropout, running BN stats
    if buffers is None:
        buffers = {n: b.expand(k, *b.shape) for n, b in module.named_buffers()}
    dtype = (next(iter(params.values())).dtype if params
             else next((b.dtype for b in buffers.values() if b.is_floating_point()), None))
    if x.is_floating_point() and dtype is not None and dtype.is_floating_point and x.dtype != dtype:  # e.g. float64
        x = x.to(dtype)

    def run(p, b, xb):
        return functional_call(base, (p, b), (xb,))

    if (params or buffers) and _held_elsewhere(module):
        # a weight also kept outside its registered slot (a plain list) is read there, where functional_call does
        # not swap it: every member was scored on module's own value
        fwd = in_place_forward(module)
    elif params or buffers:
        fwd = stacked_forward(run, (0, 0, None))
    else:  # nothing to vmap over (vmap refuses that): one network, run as it is, in eval mode
        plain = copy.deepcopy(module).eval()

        def fwd(p, b, xb):
            return plain(xb).unsqueeze(0)
    # K large networks on a large batch ran out of memory inside vmap (or met the OOM killer): the batch is run in
    # smaller chunks when it would not fit, and scored as one batch (per-example results are the same)
    act = dtype if dtype is not None and dtype.is_floating_point else torch.float32
    step = _chunk(min(batch_size, len(x)), k, widest, act.itemsize)

    def logits_of(xb: Tensor) -> Tensor:
        gib = 3 * k * min(step, len(xb)) * widest * act.itemsize / 2**30
        with out_of_memory_as(lambda: ConfigError(
                f"not enough memory to verify {k:,} networks on batches of {min(step, len(xb)):,} examples (about "
                f"{gib:,.1f} GiB of activations); pass a smaller batch_size (now {batch_size:,}) or verify fewer "
                "networks at a time")):
            if step >= len(xb):
                return fwd(params, buffers, xb)
            return torch.cat([fwd(params, buffers, xb[j : j + step]) for j in range(0, len(xb), step)], 1)

    correct = torch.zeros(k, dtype=torch.long)
    loss = torch.zeros(k, dtype=torch.float64)
    per_class = torch.zeros(k, num_classes, dtype=torch.float64)
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        c, l_, pc = _scores(logits_of(xb), yb, num_classes)
        correct += c
        loss += l_
        per_class += pc
    counts = torch.bincount(y, minlength=num_classes).double()
    per_class = (per_class / counts).tolist()
    seconds = time.perf_counter() - t0
    n = len(y)
    return [
        Report(correct[j].item() / n, loss[j].item() / n, per_class[j], n, seconds, name, split)
        for j in range(k)
    ]


def _is_graph(obj) -> bool:
    """A PyG ``Data`` / ``Batch`` (e.g. a NeuralGraph): iterating one gives (key, value) pairs, not networks. The rule
    is :func:`metanet.graph.mapping.is_graph`; here without importing the graph code for what cannot be one."""
    import sys

    if isinstance(obj, (nn.Module, str, os.PathLike, list, tuple)) or "torch_geometric.data" not in sys.modules:
        return False  # no Data exists before PyG is imported
    from metanet.graph.mapping import is_graph

    return is_graph(obj)


def _is_generated(obj) -> bool:
    """metanet.generate's result (checked by name: importing the writer here would be circular)."""
    return type(obj).__module__ == "metanet.writer.generate" and type(obj).__name__ == "Generated"


def _as_module(m: Any) -> nn.Module:
    if isinstance(m, (str, bytes, os.PathLike)):
        from metanet.graph.encode import as_network

        # one reading of a path for verify, refine, read and to_graph: bytes paths and an empty path ('' was
        # "'.' is a directory") as the others take them
        return as_network(m)
    if _is_generated(m):
        m = m.model  # metanet.generate's result: its chosen network
    elif _is_graph(m):  # as metanet.read() takes one: the network it encodes (an exact round trip)
        from metanet.graph import from_graph

        m = from_graph(m)  # GraphError for a malformed graph
    if not isinstance(m, nn.Module):
        raise ArchError(f"verify() needs nn.Module networks (or saved networks' paths), got {type(m).__name__}")
    check_weights(m)
    return m


def check_weights(model: nn.Module) -> None:
    """ArchError unless ``model``'s weights are values metanet can run: not on the meta device, not TorchScript, not
    a ``torch.compile``, ``DataParallel`` or ``DistributedDataParallel`` wrapper
    (:func:`metanet.nets.spec.is_wrapper`)."""
    from metanet.nets.spec import is_wrapper, weights_problem, wrapper_problem

    problem = weights_problem(model)
    if problem is None and is_wrapper(model):  # by name alone, a parametrized class named OptimizedModule was refused
        # vmap and functional_call on a copy of a compiled module: a raw AssertionError from inside torch._dynamo
        problem = wrapper_problem(model)
    if problem:
        raise ArchError(f"cannot run this {type(model).__name__}: {problem}")


def _stack(models: list[nn.Module], named: str) -> dict[str, Tensor]:
    """``name -> (K, *shape)``: the models' parameters (or buffers) stacked, detached."""
    tensors = [dict(getattr(m, named)()) for m in models]
    return {k: torch.stack([t[k].detach() for t in tensors]) for k in tensors[0]}


def _held_elsewhere(model: nn.Module) -> bool:
    """Whether a module of ``model`` also keeps one of its parameters or buffers (or a view of one) outside its
    registered slots: in a plain list, dict or tuple, or as a plain attribute. ``functional_call`` replaces only the
    registered tensor, so a forward pass reading the other reference reads the copied network's own values."""
    return next(_held(model), None) is not None


def _held(model: nn.Module) -> Iterator[Tensor]:
    """Each tensor a module of ``model`` keeps outside its registered slots that is one of its parameters or
    buffers or shares memory with one (a view ``[w.t()]``, ``[w.data]``), found lazily (see :func:`_held_elsewhere`)."""
    modules = list(model.modules())  # walked once (each parameters() / buffers() walked them again)
    registered = [t for m in modules for d in (m._parameters, m._buffers) for t in d.values() if t is not None]
    if not registered:
        return
    ids = {id(t) for t in registered}
    storages = {_storage(t) for t in registered} - {0}
    seen: set[int] = set()

    def found(v: Any, depth: int) -> Iterator[Tensor]:
        if isinstance(v, Tensor):
            if id(v) in ids or _storage(v) in storages:
                yield v
            return
        # not a submodule (walked as one of modules()); collections.abc's Mapping: typing's isinstance was slow.
        # The depth only guards the recursion: a weight nested 6 deep was not seen (verify scored every member on
        # the network's own value)
        if depth > 64 or id(v) in seen or not isinstance(v, _CONTAINERS):
            return
        seen.add(id(v))
        items = v.values() if isinstance(v, abc.Mapping) else v
        # told by their types (in C): walking a cache of a million numbers one by one took seconds per network
        if not any(issubclass(t, _HOLDERS) for t in set(map(type, items))):
            return
        for x in items:
            yield from found(x, depth + 1)

    for m in modules:
        for k, v in vars(m).items():  # an RNN's _flat_weights: torch syncs those
            if k not in _MODULE_OWN and not (k == "_flat_weights" and isinstance(m, nn.RNNBase)):
                yield from found(v, 0)


#: the containers :func:`_held` looks into (a deque too: not a list)
_CONTAINERS = (list, tuple, set, frozenset, dict, collections.deque, abc.Mapping)
#: what can hold a tensor for :func:`_held_elsewhere`
_HOLDERS = (Tensor, *_CONTAINERS)
#: nn.Module's own attributes (registered tensors, submodules, hook dicts, ``training``): no other reference in them
_MODULE_OWN = frozenset(vars(nn.Module()))


def in_place_forward(module: nn.Module) -> Callable[[dict[str, Tensor], dict[str, Tensor], Tensor], Tensor]:
    """``fwd(params, buffers, xb)``: the eval-mode logits ``(K, b, C)`` of each member of a stack (``params[name]``,
    ``buffers[name]``: ``(K, *shape)``; a name not given keeps ``module``'s value), run on ``module`` itself one at a
    time without gradients, its registered tensors overwritten with the member's and put back after (its modes too;
    meanwhile ``module`` holds the member's values). For a module that also keeps a parameter or buffer (or a view
    of one) outside its registered slots, in a plain list its forward reads, where ``functional_call`` swaps
    nothing: that reference is then the member's too. On ``module`` itself, not a copy: a deep copy clones a view
    (``[w.t()]``, ``[w.data]``) apart from its parameter.
    Written through ``.data``: a bumped version counter left a view kept from ``torch.no_grad()`` unusable (a
    deep copy's RuntimeError 'A view was created in no_grad mode and its base ... has been modified inplace')."""
    own = {n: t for named in (module.named_parameters, module.named_buffers) for n, t in named(remove_duplicate=False)}

    @torch.no_grad()
    def fwd(params: dict[str, Tensor], buffers: dict[str, Tensor], xb: Tensor) -> Tensor:
        given = {**params, **buffers}
        # copy_ cast each member to the module's dtype while the inputs followed the members' (a raw "mat1 and mat2
        # must have the same dtype"); the module cannot run in theirs: a view it keeps stays of its own dtype
        odd = next((n for n, v in given.items() if v.dtype != own[n].dtype), None)
        if odd is not None:
            a, b = (str(t.dtype).replace("torch.", "") for t in (given[odd], own[odd]))
            raise ArchError(f"cannot run {a} members on this {type(module).__name__}, whose {odd} is {b}: it also "
                            "keeps a parameter outside its registered slot (a plain list its forward reads), so "
                            f"each member runs on the network itself; pass {b} values")
        k = len(next(iter(given.values()))) if given else 1
        saved = {n: own[n].clone() for n in given}
        try:
            with kept_modes(module, eval=True):
                outs = []
                for i in range(k):
                    for n, v in given.items():
                        own[n].data.copy_(v[i])
                    outs.append(module(xb))
                return torch.stack(outs)
        finally:
            for n, v in saved.items():
                own[n].data.copy_(v)

    return fwd


def _storage(t: Tensor) -> int:
    """The address of ``t``'s storage, 0 for one without (meta, sparse: their ``untyped_storage()`` raised)."""
    if t.is_meta or t.layout != torch.strided:
        return 0
    try:
        return t.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):  # e.g. a tensor subclass without storage
        return 0


def _tying(model: nn.Module) -> tuple[tuple[str, str], ...]:
    """Each registered name of ``model``'s parameters and buffers with the name its tensor is first registered under
    (itself unless tied, or in a submodule used twice): the signature's state dict lists tied tensors under every
    name, so a tied model and an untied one looked alike."""
    first: dict[int, str] = {}
    named = list(model.named_modules(remove_duplicate=False))  # one walk, not one per kind (named_parameters')
    return tuple((n, first.setdefault(id(t), n)) for kind in ("_parameters", "_buffers") for at, m in named
                 for k, t in getattr(m, kind).items() if t is not None for n in (f"{at}.{k}" if at else k,))


def _signature(model: nn.Module) -> tuple:
    from metanet.nets import spec

    try:
        arch = spec(model)
    except ArchError:  # any other module: its module tree with each layer's settings (e.g. a LeakyReLU's slope),
        arch = repr(model)  # not only its class: the list runs as the first model with the others' parameters
    # getattr: a quantized layer's state dict holds a torch.dtype and a tuple of packed weights (no .shape)
    return repr(arch), tuple((k, tuple(getattr(v, "shape", ()))) for k, v in model.state_dict().items())


@overload
def verify(model: Network, task: Any, split: str = "test", batch_size: int = 4096) -> Report: ...


@overload
def verify(model: Sequence[Network], task: Any, split: str = "test", batch_size: int = 4096) -> list[Report]: ...


@with_metanet_defaults()  # under set_default_device('meta') the network's inputs were made there
def verify(
    model: Network | Sequence[Network],
    task: Any,
    split: str = "test",
    batch_size: int = 4096,
) -> Report | list[Report]:
    """Run ``model`` (or a list of K same-architecture models, in one vectorised pass) on ``task``'s ``split``.

    Args:
        model: an ``nn.Module`` mapping ``(N, *task.input_shape)`` to ``(N, task.num_classes)`` logits, the path of
            a network saved with :func:`metanet.save`, a :class:`~metanet.graph.NeuralGraph` (the network
            :func:`~metanet.graph.from_graph` decodes), a :class:`~metanet.Generated` (its ``model``), or a list of
            them (one function of their parameters and buffers: the list runs as the first model with each model's
            own tensors); a PyG ``Batch`` of graphs is the list of its graphs.
        task: a task spec (:func:`metanet.tasks.resolve`): a :class:`~metanet.tasks.Task`, a task name, a
            sentence, labelled examples ``(x, y)`` or a map-style ``Dataset`` of ``(input, label)`` pairs (read once
            into ``(x, y)``). Examples are split per class as
            :func:`metanet.tasks.from_examples` splits them (the report's ``task`` is the name it gives them), and
            only their ``split`` is scored (``"test"``: about a fifth of them); to score every example, pass
            ``from_examples(x, y, val_fraction=0, test_fraction=0)`` with ``split="train"``. Their labels may be any
            of the network's classes ``0..N-1`` for ``N`` outputs, not necessarily all (its 3s and 8s only):
            ``per_class`` is NaN for the classes without examples.
        split: ``"train"``, ``"val"`` or ``"test"``.
        batch_size: examples per forward pass (fewer at a time when the activations of K networks on that many
            would take over a quarter of this machine's memory: the same scores, up to float rounding).

    The same networks, task, split and ``batch_size`` give bit-identical reports on the same machine, torch version
    and thread count; another ``batch_size`` or ``torch.set_num_threads`` can change the last bits of ``loss``.

    Forward hooks and pre-hooks registered on the network run too: first on a probe of two all-zero examples, then
    on a copy of its modules with ``vmap``-ped tensors (a torch limitation: a hook may read their shapes, but a
    tensor it keeps is unusable after the call; a network that keeps a parameter also outside its registered place,
    in a plain Python list, runs on itself with plain tensors instead). A list whose networks tie weights differently
    (one shares a weight between two layers, another does not) or keep a parameter in such a list is run one network
    at a time, each on its own weights.

    Returns:
        A :class:`Report`, or a list of them (same order) when a list was given.

    Raises:
        ArchError: the network does not fit the task's inputs or classes (for examples ``(x, y)``: a label past
            its last output; a forward that drops the batch dimension, ``x.mean(0)``: one row of logits per example
            is needed; an error its forward pass, a forward hook or pre-hook raises is named with the module it
            left), weights it cannot run (on the 'meta' device, TorchScript, a ``torch.compile`` or
            ``DataParallel`` wrapper: pass the module it wraps; an attribute holding a tensor computed with
            gradients, which cannot be copied: keep it detached), or the models of a list differ in architecture or
            dtype.
        ConfigError: a bad ``batch_size``, or K networks too large to verify at once on this machine's memory.
        FileFormatError: a path that is not a network saved with :func:`metanet.save`.
        GraphError: a graph that does not decode to a network.
        TaskError: a split without examples, or labelled examples ``(x, y)`` with labels outside the task's classes.
    """
    task = unpack_dataset(task)  # a Dataset of (input, label) pairs: its (x, y), read once for every model
    if _is_graph(model):
        from torch_geometric.data import Batch

        if not isinstance(model, Batch):
            return verify([model], task, split, batch_size)[0]
        model = model.to_data_list()  # a Batch: its graphs, one Report each
    elif isinstance(model, (nn.Module, str, bytes, os.PathLike)) or _is_generated(model):  # bytes: a path, not a list
        return verify([model], task, split, batch_size)[0]
    elif isinstance(model, Mapping):  # its keys were read as paths: "layers.0.weight: no such file"
        raise ArchError(f"verify() needs an nn.Module, a saved network's path or a list of them, got a "
                        f"{type(model).__name__} (a state_dict? load it into its network first: "
                        "net.load_state_dict(sd))")
    try:
        models = [_as_module(m) for m in model]
    except TypeError:
        raise ArchError(f"verify() needs an nn.Module, a saved network's path or a list of them, got "
                        f"{type(model).__name__}") from None
    if not models:
        raise ArchError("verify() got an empty list of models")
    sigs = [_signature(m) for m in models]
    if any(s != sigs[0] for s in sigs):
        raise ArchError("verify() on a list needs models of one architecture (same spec and parameter shapes)")
    # torch.stack promoted a float32 / float64 mix silently: the float32 models were run (and scored) in float64
    dtypes = [{k: getattr(v, "dtype", None) for k, v in m.state_dict().items()} for m in models]
    odd = next((i for i, d in enumerate(dtypes) if d != dtypes[0]), None)
    if odd is not None:
        key = next(k for k in dtypes[0] if dtypes[0][k] != dtypes[odd][k])
        a, b = (str(d[key]).replace("torch.", "") for d in (dtypes[0], dtypes[odd]))
        raise ArchError(f"verify() on a list needs models of one dtype: {key} is {a} in model 0 but {b} in model "
                        f"{odd}; convert them to one first, e.g. [m.float() for m in models]")
    tied = _tying(models[0]) if len(models) > 1 else ()  # once, not once per model
    if len(models) > 1 and (any(_tying(m) != tied for m in models[1:]) or any(_held_elsewhere(m) for m in models)):
        # one at a time, each on its own weights: the stacked pass runs model 0's copy, so weights tied in one model
        # and not in another scored an untied model with its tied twin's weight (a tied one after an untied one: a
        # raw KeyError), and a weight also kept in a plain list (swapped only where registered) was model 0's
        return [verify([m], task, split, batch_size)[0] for m in models]
    # stacked by hand, not with stack_module_state: that refused a list mixing train / eval mode or frozen /
    # trainable parameters (raw RuntimeErrors), which verification (eval mode, no grad) does not care about
    params, buffers = _stack(models, "named_parameters"), _stack(models, "named_buffers")  # buffers: BN statistics
    if not params and not buffers:  # nothing to stack: each (parameter-free) network on its own
        return [verify_stacked(m, {}, task, split, batch_size)[0] for m in models]
    return verify_stacked(models[0], {k: v.detach() for k, v in params.items()}, task, split, batch_size,
                          buffers={k: v.detach() for k, v in buffers.items()})
