r"""Refine one network without a writer: gradient-free weight or activity perturbation, or plain gradient fine-tuning.

``method="perturbation"`` (the "mortal computation" learning rule: no backward pass, only a scalar reward):
each step draws ``population`` Gaussian directions ``eps`` (antithetic pairs ``+eps, -eps``), scores all
``2 * population`` perturbed networks ``theta ± sigma_l * eps`` at once (stacked parameters, one ``vmap``-ed
forward pass; one at a time on the network itself when its forward also reads a weight from a plain Python list,
where a stacked pass would read the unperturbed one) on a minibatch of the training data, and estimates the
gradient of the reward as ``g = mean_j (R(+) - R(-)) / (2 sigma) * eps_j``, standardised; Adam ascends it.
``sigma_l`` is ``sigma`` times the RMS of each parameter tensor (taken as at least 0.01: a zero tensor, e.g. a
fresh bias, is perturbed too).
Reward: negative minibatch cross-entropy (``objective="loss"``) or minibatch accuracy (``objective="accuracy"``).

``method="activity"`` (node perturbation, Williams 1992; Fiete & Seung 2006): instead of the weights, the
*pre-activations* of every ``Linear`` / ``Conv2d`` layer are perturbed, independently per example: each step the
minibatch is run ``2 * population`` times with :math:`z_l \leftarrow z_l \pm \sigma_l \epsilon_l` (antithetic,
:math:`\sigma_l` = ``sigma`` times the RMS of the clean :math:`z_l`), and each example's own loss change estimates
the gradient with respect to its own pre-activations,

.. math::
    \hat g_{l,i} = \frac{1}{P} \sum_{p=1}^{P} \frac{L_i(+\epsilon_p) - L_i(-\epsilon_p)}{2 \sigma_l}\, \epsilon_{p,l,i},

from which the weight gradient is the local outer product with the layer's clean input,
:math:`\hat g_{W_l} = \frac{1}{b} \sum_i \hat g_{l,i}\, a_{l-1,i}^\top` (for a convolution: the same
correlation ``torch.nn.grad.conv2d_weight`` computes). No backward pass through the network: every layer learns
from the scalar losses and its own inputs (parameters outside those layers are left as they are). The variance of
the estimate grows with the number of *units* of a layer rather than with its number of weights, and every
example contributes its own estimate, which is why it needs far fewer perturbations than weight perturbation for
the same progress.

``method="sgd"``: the same minibatches, the same optimiser (Adam, same learning rate), exact backprop gradients of
the cross-entropy — the comparison point.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from metanet._state import check_fits_memory, with_metanet_defaults
from metanet.errors import MAX_ITERATIONS, ArchError, ConfigError, TaskError, check_number, is_flag
from metanet.tasks import resolve
from metanet.tasks.resolve import as_examples, unpack_dataset
from metanet.loop.tasks import check_seed
from metanet.verify import (Network, Report, _as_module, _held, _held_elsewhere, _made_with_grad, _storage, check_fits,
                            copy_network, in_place_forward, meta_copy, predicted, stacked_forward, verify, verify_stacked)

__all__ = ["refine", "RefineResult", "REFINE_METHODS", "GRADIENT_FREE"]

log = logging.getLogger("metanet.loop")  # the logger finite_gradients warns on

#: the gradient-free methods (no backward pass through the network), then the backprop comparison point
GRADIENT_FREE = ("perturbation", "activity")
REFINE_METHODS = (*GRADIENT_FREE, "sgd")


def _layers(net: nn.Module) -> list[nn.Module]:
    layers = [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if not layers:
        raise ArchError(f"activity perturbation needs Linear or Conv2d layers; {type(net).__name__} has none")
    return layers


@torch.no_grad()
def _activity_step(net: nn.Module, layers: list[nn.Module], xb: Tensor, yb: Tensor, population: int, sigma: float,
                   g: torch.Generator, objective: str) -> float:
    """Set ``.grad`` of every layer's weight and bias to the node-perturbation estimate; return the clean reward."""
    clean: dict[nn.Module, tuple[Tensor, Tensor]] = {}
    noise: dict[nn.Module, tuple[Tensor, Tensor]] = {}  # layer -> (eps (P, b, ...), its scale sigma_l)
    reused: list[nn.Module] = []

    def record(m, inp, out):  # clean pass: each layer's input and pre-activation
        if m in clean:  # a layer applied twice (shared weights): the estimate would cover its last use only
            reused.append(m)
        clean[m] = (inp[0], out)

    def perturb(m, inp, out):  # perturbed pass: 2P copies of the batch, +eps then -eps
        eps = torch.randn((population, *clean[m][1].shape), generator=g)
        s = sigma * clean[m][1].pow(2).mean().sqrt().clamp_min(1e-6)
        noise[m] = (eps, s)
        return out + s * torch.cat([eps, -eps]).flatten(0, 1)

    hooks = [m.register_forward_hook(record) for m in layers]
    try:
        logits = net(xb)
    finally:
        for h in hooks:
            h.remove()
    if reused:
        name = next(n for n, m in net.named_modules() if m is reused[0])
        raise ArchError(f"activity perturbation perturbs each layer's output once, but layer {name!r} "
                        f"({type(reused[0]).__name__}) is applied more than once per forward pass (shared weights); "
                        "use method='perturbation' or 'sgd'")
    # a layer the forward pass never calls (e.g. an auxiliary head) does not change the output: it is left as it
    # is (its estimate was a raw KeyError)
    layers = [m for m in layers if m in clean]
    if not layers:
        raise ArchError(f"activity perturbation perturbs the outputs of Linear and Conv2d layers, but the forward pass "
                        f"of {type(net).__name__} calls none of its layers; use method='perturbation' or 'sgd'")
    hooks = [m.register_forward_hook(perturb) for m in layers]
    try:
        out = net(xb.repeat(2 * population, *[1] * (xb.dim() - 1)))
    finally:
        for h in hooks:
            h.remove()
    yr = yb.repeat(2 * population)
    if objective == "loss":
        loss = F.cross_entropy(out, yr, reduction="none")
    else:  # minus the accuracy: a step function of the logits, so its estimate is much noisier
        loss = -(predicted(out) == yr).float()  # a NaN/inf row is wrong (argmax made it class 0)
    loss = torch.nan_to_num(loss, nan=1e6, posinf=1e6, neginf=1e6).view(2, population, -1)
    diff = (loss[0] - loss[1]) / 2  # (P, b): each example's own loss change
    b = len(yb)
    for m in layers:
        a, z = clean[m]
        eps, s = noise[m]
        gz = (diff.view(population, b, *[1] * (z.dim() - 1)) * eps).mean(0) / s  # (b, *z.shape[1:])
        if isinstance(m, nn.Linear):
            m.weight.grad = gz.flatten(0, -2).T @ a.flatten(0, -2) / b
            if m.bias is not None:
                m.bias.grad = gz.flatten(0, -2).sum(0) / b
        else:
            padding = m.padding
            if m.padding_mode != "zeros" or isinstance(padding, str):
                # the gradient is a correlation with what the layer convolved: its input padded as Conv2d pads it
                # (reflect / replicate / circular, or "same" / "valid"); zero-padding it gave a wrong gradient
                mode = "constant" if m.padding_mode == "zeros" else m.padding_mode
                a, padding = F.pad(a, m._reversed_padding_repeated_twice, mode=mode), (0, 0)
            m.weight.grad = torch.nn.grad.conv2d_weight(a, m.weight.shape, gz, m.stride, padding, m.dilation,
                                                        m.groups) / b
            if m.bias is not None:
                m.bias.grad = gz.sum(dim=(0, 2, 3)) / b
    return _reward(logits, yb, objective)


_HALF = (torch.float16, torch.bfloat16)


def _check_half(net: nn.Module) -> None:
    """ArchError for a half-precision network refine cannot run as its float32 copy (see :func:`refine`): one whose
    floating parameters and buffers are not all of one dtype (the cast made them all float32, then all half: a raw
    RuntimeError mid-step, a misleading 'does not accept inputs', or a float32 layer given back in half), or one
    keeping a view of a parameter, or a floating buffer, outside its slot (the cast does not follow it: the forward
    read the half tensor, a misleading 'does not accept inputs')."""
    floats = [(n, t.dtype) for named in (net.named_parameters, net.named_buffers) for n, t in named()
              if t.is_floating_point()]
    if not any(d in _HALF for _, d in floats):
        return
    name, dtype = floats[0]
    odd = next(((n, d) for n, d in floats if d != dtype), None)
    if odd is not None:
        raise ArchError(f"cannot refine a network mixing half precision with other dtypes: {name} is "
                        f"{str(dtype).replace('torch.', '')} but {odd[0]} is {str(odd[1]).replace('torch.', '')}; "
                        "valid: every floating parameter and buffer of one dtype (cast the network with .float(), "
                        ".half() or .to(torch.bfloat16))")
    # the parameter itself kept in a list is cast with its slot (.float() sets its .data): only another tensor on
    # its memory (a view [w.t()], [w.data]) stays half, and so does a buffer itself (.float() registers a new tensor
    # in its slot); an integer one is not cast (a view of an index buffer was refused, naming a weight)
    registered = {id(p) for p in net.parameters()}
    kept = {_storage(t) for t in _held(net) if id(t) not in registered and t.is_floating_point()}
    if kept:
        where = next((n for named in (net.named_parameters, net.named_buffers) for n, t in named()
                      if _storage(t) in kept), name)
        raise ArchError(f"cannot refine this {str(dtype).replace('torch.', '')} {type(net).__name__}: it "
                        f"keeps {where} (or a view of it) outside its registered slot, in an attribute its forward "
                        "reads, and a half-precision network is refined as its float32 copy, which that reference "
                        "would not follow; valid: a float32 network (cast it with .float() and make that reference "
                        "again), or one reading its weights and buffers from their slots")


def _probe_views(net: nn.Module, params: dict[str, Tensor]) -> list[Tensor]:
    """The tensors ``net`` keeps outside its slots on a parameter's memory made without autograd (leaves), set to
    require grad for the first step: one that gets a gradient is read by the forward (a view of a layer the forward
    does not use gets none, and its weight's missing gradient was wrongly an ArchError)."""
    ids = {id(p) for p in params.values()}
    mine = {_storage(p) for p in params.values()}
    probes = list({id(t): t for t in _held(net) if id(t) not in ids and t.is_leaf and not t.requires_grad
                   and t.is_floating_point() and _storage(t) in mine}.values())
    for t in probes:
        t.requires_grad_(True)
    return probes


def _check_reached(params: dict[str, Tensor], probes: list[Tensor]) -> None:
    """ArchError for a parameter that backprop gave no gradient because the forward reads it through a view kept
    outside its slot made without autograd (under no_grad, ``.data``, ``.detach()``, or of a frozen weight): sgd
    left it as it was and reported the network refined. ``probes`` (see :func:`_probe_views`) are reset."""
    views = {_storage(t) for t in probes if t.grad is not None}
    for t in probes:
        t.requires_grad_(False)
        t.grad = None
    name = next((n for n, p in params.items() if p.grad is None and _storage(p) in views), None)
    if name is not None:
        raise ArchError(f"method='sgd' cannot refine parameter {name!r}: the forward reads it through a view kept "
                        "outside its slot made without autograd (under torch.no_grad(), from .data / .detach(), or "
                        "of a weight with requires_grad=False), which backprop gives no gradient; make that view "
                        "with grad enabled, or use method='perturbation'")


def _reward(logits: Tensor, yb: Tensor, objective: str) -> float:
    """The clean network's reward on a batch, as ``history`` records it: minus the mean cross-entropy, or the
    accuracy."""
    if objective == "loss":
        return -F.cross_entropy(logits, yb).item()
    return (predicted(logits) == yb).float().mean().item()  # as verify: a NaN/inf row is wrong


class RefineResult(NamedTuple):
    """``(model, before, after, history)``: the refined copy, Reports of the input and the refined network on the
    verification split (None when not verified), and the per-step training reward: the reward of the network
    being refined on that step's batch, before the step (``objective``'s for the gradient-free methods, minus the
    cross-entropy for ``"sgd"``), the same quantity for every method."""

    model: nn.Module
    before: Report | None
    after: Report | None
    history: list[float]

    def __repr__(self) -> str:
        # the tuple repr printed the module, both reports and every step's reward (thousands of characters)
        def acc(r: Report | None) -> str:
            return "n/a" if r is None or not math.isfinite(r.accuracy) else f"{r.accuracy:.4f}"

        where = "not verified" if self.after is None else f"on {self.after.task}/{self.after.split}"
        return (f"RefineResult(accuracy {acc(self.before)} -> {acc(self.after)} {where}, "
                f"{len(self.history)} steps)")


def _examples(x, y) -> tuple[Tensor, Tensor]:
    """Labelled examples ``(x, y)`` as tensors a network runs on (:func:`metanet.tasks.resolve.as_examples`: numpy
    arrays are taken too, uint8 inputs 0..255 are divided by 255, labels become int64; other dtypes are a TaskError:
    they failed deep inside torch, or uint8 images were used as 0..255 by a network that reads [0, 1])."""
    if len(x) != len(y):  # x[idx] would silently pair the first len(y) inputs with the labels
        raise TaskError(f"refine got {len(x)} inputs but {len(y)} labels")
    x, y = as_examples(x, y, "refine examples (x, y)")
    if x.dim() < 2:
        raise TaskError(f"refine example inputs must have shape (n, *input_shape), got shape {tuple(x.shape)}")
    if len(y) and int(y.min()) < 0:
        raise TaskError(f"refine example labels must be class ids 0..k-1, got {int(y.min())}")
    return x, y.long()


def _data(task, split: str):
    if isinstance(task, (tuple, list)) and len(task) == 2:
        return (*_examples(task[0], task[1]), None)
    t = resolve(task)
    x, y = t.split(split)
    return x, y, t


def _report(model: nn.Module, task, t, verify_on, k: int) -> Report | None:
    if verify_on is None:
        return None
    given = isinstance(verify_on, (tuple, list))
    if given and len(verify_on) != 2:  # (x, y, extra) was a raw TypeError
        raise TaskError(f"verify_on examples must be a pair (x, y), got {len(verify_on)} items")
    if t is not None and not given:  # (x, y) with a Task: scored as such (was "unknown split (tensor(...")
        return verify(model, t, split=verify_on)
    from types import SimpleNamespace

    x, y = _examples(*(verify_on if given else task))
    p = {n: v.detach().unsqueeze(0) for n, v in model.named_parameters()}
    # labelled as what it measured: not "test" (verify_stacked's default) for the very examples refined on
    return verify_stacked(model, p, SimpleNamespace(name="examples", num_classes=k), data=(x, y),
                          split="examples" if given else "train")[0]


# float32 default and grad mode on (method='sgd' steps), whatever the caller set: given back on return
@with_metanet_defaults(grad=True)
def refine(
    model: Network,
    task: Any,
    method: str = "perturbation",
    steps: int = 100,
    population: int = 32,
    sigma: float = 0.02,
    lr: float = 3e-3,
    batch_size: int = 256,
    objective: str = "loss",
    split: str = "train",
    verify_on: str | tuple[Any, Any] | list[Any] | None = "val",
    seed: int = 0,
    num_classes: int | None = None,
    keep_zeros: bool = False,
) -> RefineResult:
    """Refine a copy of ``model`` on ``task``'s ``split`` (or on ``task=(x, y)``); ``model`` is left unchanged.

    Args:
        model: a network (any ``nn.Module`` mapping inputs to logits, or a saved network's path, read with
            :func:`metanet.load`; buffers are kept as they are). Every
            parameter is refined, whatever its ``requires_grad``; the refined copy keeps ``model``'s dtype and
            ``requires_grad`` flags (a float16 / bfloat16 network is refined in float32, then cast back; a half
            one mixing dtypes, or keeping a view of a weight outside its slot, is an ArchError). Weights
            that are exactly zero are refined like the others unless ``keep_zeros``: a pruned network comes back
            dense (every method moves its zeros).
        task: a Task, a task name, or ``(x, y)`` examples (tensors or numpy arrays; uint8 inputs 0..255 are
            divided by 255, as :func:`metanet.tasks.from_examples` reads them), or a map-style ``Dataset`` of
            ``(input, label)`` pairs (read once into those examples; so is a Dataset given as ``verify_on``).
        method: ``"perturbation"`` (gradient-free, weights perturbed), ``"activity"`` (gradient-free,
            pre-activations perturbed) or ``"sgd"`` (backprop, for comparison).
        steps: optimisation steps, 0 to :data:`~metanet.errors.MAX_ITERATIONS` (10**9).
        population: antithetic perturbation pairs per step, >= 1 (not used by ``"sgd"``, which takes any integer).
        sigma: perturbation scale relative to each parameter tensor's RMS (``"activity"``: to each layer's
            pre-activation RMS), > 0 (not used by ``"sgd"``, which takes any finite number).
        lr: learning rate of the Adam optimiser that applies every method's steps.
        batch_size: minibatch of the training data per step (the same batches for both methods, given the seed).
        objective: reward of the perturbation rules, ``"loss"`` (negative cross-entropy) or ``"accuracy"``.
        split: training split of a Task.
        verify_on: split for the before/after Reports (a Task), or ``(x, y)``, or None (no reports). With
            ``task=(x, y)`` a split name means the refined examples themselves (the Reports' ``split`` says
            ``"train"``; ``"examples"`` for ``verify_on=(x, y)``).
        seed: the same seed gives the same result (on the same machine, torch version and thread count).
        num_classes: the number of classes (default: the Task's; for ``(x, y)`` examples, whose labels may leave
            the network's last outputs unused, the network's number of outputs).
        keep_zeros: weights (parameters of 2 or more dimensions) that are exactly zero stay zero: a pruned network
            is refined as sparse as it came (its zeros are neither perturbed nor stepped). Biases are refined as
            always.

    Returns:
        :class:`RefineResult` ``(model, before, after, history)``.
    """
    if method not in REFINE_METHODS:
        raise ConfigError(f"unknown refine method {method!r}; valid: {', '.join(REFINE_METHODS)}")
    if objective not in ("loss", "accuracy"):
        raise ConfigError(f"unknown refine objective {objective!r}; valid: loss, accuracy")
    # NaN / inf / 0-sized batches do not crash: they give NaN rewards and a silently wrecked or unchanged network
    # sgd ignores population and sigma: their range is not its concern (population=0 with sgd was refused), but a
    # value of the wrong kind ("32", NaN, 2.5 pairs) is a mistake whatever the method
    uses = method != "sgd"
    for name, value, low in (("steps", steps, 0), ("population", population, 1 if uses else None),
                             ("batch_size", batch_size, 1)):
        check_number(name, value, f">= {low}" if low is not None else "as a number (sgd ignores its value)",
                     lambda v, low=low: low is None or v >= low, integer=True)
    # steps=10**30 was accepted and never returned
    check_number("steps", steps, f"<= {MAX_ITERATIONS:,} (more steps than any run could finish)",
                 lambda v: v <= MAX_ITERATIONS, integer=True)
    for name, value, positive in (("sigma", sigma, uses), ("lr", lr, True)):
        check_number(name, value, "> 0" if positive else "as a number (sgd ignores its value)",
                     lambda v, positive=positive: not positive or v > 0)
    sigma, lr = float(sigma), float(lr)  # a Fraction or a huge int was a raw TypeError / OverflowError mid-step
    # a float / None seed was a raw RuntimeError / TypeError from the generator
    seed = check_seed(seed)
    if num_classes is not None:  # 0 was taken as "not given", '10' gave "outputs (10,) but ... has 10 classes"
        check_number("num_classes", num_classes, ">= 1 (or None: the task's)", lambda v: v >= 1, integer=True)
    model = _as_module(model)  # a saved network's path, as for verify(); ArchError for anything else
    # a Dataset of (input, label) pairs: its examples (x, y), as if they were given
    task, verify_on = unpack_dataset(task), unpack_dataset(verify_on)
    x, y, t = _data(task, split)
    if len(y) == 0:
        raise TaskError("refine needs at least one training example")
    if len(x) != len(y):  # x[idx] would silently pair the first len(y) inputs with the labels
        raise TaskError(f"refine got {len(x)} inputs but {len(y)} labels")
    k = num_classes if num_classes is not None else (t.num_classes if t is not None else int(y.max()) + 1)
    # deepcopy refused a layer torch's prune / weight_norm had just set up, and cut a view of a weight kept in a
    # plain list ([w.t()]) off the copy's weight (refined weights the forward never read)
    # sgd: a view made with grad stays one on the copy's weight (detached, backprop left that weight as it was)
    net = copy_network(model, grad=method == "sgd").eval()
    first = next(net.parameters(), None)
    dtype = first.dtype if first is not None else None
    _check_half(net)
    if dtype in _HALF:
        # a half-precision network is refined as its float32 copy (its values are exact there) and returned in its
        # own dtype: the float32 noise and CPU ops refused the mix, and Adam's state and the small steps of a
        # perturbation estimate vanish in half precision
        net.float()
    names = [n for n, _ in net.named_parameters()]
    params = dict(net.named_parameters())
    if not params:
        from metanet.nets.spec import wrapper_problem

        # a quantize_dynamic network's layers hold packed int8 weights, no parameters: "has none" named no reason
        problem = wrapper_problem(net)
        raise ArchError("refine needs a network with parameters; "
                        + (f"this {type(net).__name__}: {problem}" if problem else f"{type(net).__name__} has none"))
    if not is_flag(keep_zeros):
        raise ConfigError(f"keep_zeros must be True or False, got {keep_zeros!r}")
    # a pruned network's zeros (masks of the weights that have any): kept out of every perturbation and step
    pruned = {n: m for n, v in params.items() if keep_zeros and v.dim() >= 2 and (m := v.detach() == 0).any()}
    if method == "activity":
        layers = _layers(net)
    # the network must fit the data: else a raw RuntimeError / IndexError from the first step
    check_fits(net, tuple(x.shape[1:]), k, where=f"task {t.name!r}" if t is not None else "the examples",
               at_least=t is None and num_classes is None)
    p0 = next(iter(params.values()))
    if p0.is_floating_point() and x.is_floating_point():
        x = x.to(p0.dtype)  # e.g. a float64 network, as verify() runs it
    if t is None and num_classes is None:  # labels 0..4 for a 10-output network: the reports score all its outputs
        with torch.no_grad():
            k = net(x[:1]).shape[1]
    if method != "sgd":  # a TypeError / OOM in randn
        n_params = sum(v.numel() for v in params.values())
        # a Python int: a numpy population's product wrapped around int64 and passed the check
        check_fits_memory(f"population={population:,} perturbation pairs of {n_params:,} parameters",
                          2 * int(population) * n_params, "give a smaller population")
    before = _report(model, task, t, verify_on, k)
    g = torch.Generator().manual_seed(int(seed) % 2**64)  # any integer seed, as generate takes them
    from metanet.loop.core import finite_gradients  # here: metanet.loop.core imports this module

    opt = torch.optim.Adam(params.values(), lr=lr)
    history: list[float] = []
    skipped, first_skipped = 0, -1  # steps whose gradient was not finite: one summary warning, not a line per step
    # every parameter is refined, as the gradient-free rules always did: requires_grad=False (a network frozen for
    # inference) made backward() a raw RuntimeError; the copy gets the caller's flags back at the end
    frozen = [p for p in params.values() if not p.requires_grad]
    if method == "sgd":
        for p in frozen:
            p.requires_grad_(True)
    if method == "perturbation" and _held_elsewhere(net):
        # a weight also kept outside its registered slot (a plain list) is read there, where functional_call does
        # not swap it: every perturbed network ran on the unperturbed weight, and Adam random-walked it
        run = in_place_forward(net)

        def fwd(p: dict[str, Tensor], xb: Tensor) -> Tensor:
            return run(p, {}, xb)  # net's own buffers
    elif method == "perturbation":
        base = meta_copy(net)  # tied weights stay tied (.to("meta") untied them: a layer ran on a meta weight)
        buffers = dict(net.named_buffers())
        fwd = stacked_forward(lambda p, xb: functional_call(base, (p, buffers), (xb,)), (0, None))
    t0 = time.perf_counter()
    for step in range(steps):
        idx = torch.randperm(len(y), generator=g)[:batch_size]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        if method == "sgd":
            probes = _probe_views(net, params) if step == 0 else []
            loss = F.cross_entropy(net(xb), yb)
            loss.backward()
            if step == 0:
                _check_reached(params, probes)
            history.append(-loss.item())
        elif method == "activity":
            history.append(_activity_step(net, layers, xb, yb, population, sigma, g, objective))
        else:
            with torch.no_grad():
                eps = {n: torch.randn((population, *params[n].shape), generator=g) for n in names}
                for n, m in pruned.items():  # drawn all the same: the other weights' noise is that of keep_zeros=False
                    eps[n].masked_fill_(m, 0.0)
                scale = {n: sigma * params[n].pow(2).mean().sqrt().clamp_min(1e-2) for n in names}
                stacked = {n: torch.cat([params[n] + scale[n] * eps[n], params[n] - scale[n] * eps[n]]) for n in names}
                logits = fwd(stacked, xb)  # (2P, b, C)
                if objective == "loss":
                    ce = F.cross_entropy(logits.flatten(0, 1), yb.repeat(2 * population), reduction="none")
                    r = -ce.view(2 * population, -1).mean(1)
                else:
                    r = (predicted(logits) == yb).float().mean(1)  # a NaN/inf row is wrong, as in verify
                r = torch.nan_to_num(r, nan=-1e6, posinf=-1e6, neginf=-1e6)
                diff = r[:population] - r[population:]
                # the clean network's reward, as sgd and activity record it (was the perturbed population's mean)
                history.append(_reward(net(xb), yb, objective))
                if diff.abs().max() == 0:
                    continue  # flat reward: no information this step
                # one pair has no spread to normalise by: its sign (Adam sets the step size either way)
                spread = diff.std() if population > 1 else diff.abs()
                w = diff / (spread + 1e-8) / population
                for n in names:  # Adam minimises: the gradient is minus the reward's ascent direction
                    params[n].grad = -(w.view(-1, *[1] * params[n].dim()) * eps[n]).sum(0)
        # a non-finite loss (logits of inf for huge finite weights) gives NaN gradients, and Adam then made
        # every weight NaN: the step is skipped (counted, logged once after the loop), as a flat reward's step is
        for n, m in pruned.items():
            if params[n].grad is not None:
                params[n].grad.masked_fill_(m, 0.0)
        if finite_gradients(net, step, "refine step", warn=False):
            opt.step()
        else:
            if not skipped:
                first_skipped = step
            skipped += 1
    if skipped:  # a network whose loss is never finite logged 100 identical lines for 100 steps
        log.warning("refine: %d of %d steps had a non-finite gradient and were skipped (the first: step %d)",
                    skipped, steps, first_skipped)
    net.eval()
    for p in frozen:
        p.requires_grad_(False)
    # its views made with grad detached again, as any copy's: verify refuses a tensor computed with gradients. Only
    # then: copying every sgd network doubled its memory, and raised for one caching its activations in a list
    if method == "sgd" and any(_made_with_grad(t) for t in _held(net)):
        net = copy_network(net)
    if dtype in _HALF:
        net.to(dtype)
    after = _report(net, task, t, verify_on, k)
    if after is not None:
        after.extra["seconds_refine"] = time.perf_counter() - t0
        after.extra["method"] = method
    return RefineResult(net, before, after, history)
