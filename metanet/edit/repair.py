"""Rogue-neuron detection and repair: find the neurons a backdoor trigger drives, and remove, re-scale or
disconnect them from the trigger.

Scoring. Every hidden neuron is scored by how far the trigger moves its output: (mean on triggered
calibration inputs - mean on clean ones) / clean standard deviation.

Candidate edits, all measured at once on the calibration split (clean accuracy, and attack success rate on
the triggered non-target examples):

- ``remove`` / ``scale``: the top-k neurons of the ranking (all layers together, never a whole layer) get
  their outputs multiplied by alpha (0, 0.25, 0.5): one masked, vectorised pass for all (k, alpha);
- ``cut``: when the first hidden layer reads pixels directly (MLPs), the connections from the trigger's pixels
  (its most important 25/50/75/100%) into the top-k first-layer neurons are removed, their mean contribution on
  clean data folded into the bias: "keep only necessary connections" for the rogue neurons; all variants in
  one ``vmap`` pass over stacked weights.

Choice: among the edits that bring the attack success rate under half the goal with at most half the accuracy
budget, else under the goal within 3/4 of the budget (margins: the choice among hundreds of candidates on one
calibration set is optimistic), the one using the smallest share of the two budgets. If none reaches the goal,
the best trade-off that lowers the attack success rate within half the budget is applied and the search
repeats on the edited network (a few rounds, drops counted from the original). A network on which the trigger
already fails (rate <= goal) is left as it is.

Blind (no trigger, or ``blind=True``): the trigger is reconstructed first, Neural Cleanse style (Wang et al.
2019): for every class the smallest mask-and-pattern sending inputs to it is optimised, all classes in one
batched optimisation. The class with the most anomalously small mask (robust z-score of the log mask norms)
is the suspect; it counts as a backdoor target if the anomaly index exceeds 3, or exceeds 1 with a compact
mask (most of its mass in one small window, as a patch trigger's is). Its reconstruction (grown by a pixel,
as reconstructions usually recover only part of a patch) drives the same search, and the trigger is
reconstructed again on the edited network while the same target still stands out. No suspect: no edit.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from metanet.edit.edits import prepare
from metanet.edit.neurons import remove_neurons, scale_neurons, scale_route
from metanet.edit.report import EditResult, finish
from metanet.edit.trigger import summary, triggered_set
from metanet.inspect.measure import activations, evaluate_masks, predictions
from metanet.inspect.netview import NetView

__all__ = ["repair_backdoor", "reconstruct_trigger", "trigger_scores"]

def trigger_scores(v: NetView, x: Tensor, xt: Tensor) -> dict[int, Tensor]:
    """Per layer, ``(mean on triggered - mean on clean) / clean std`` of each neuron's output."""
    ac, at = activations(v, x), activations(v, xt)
    out = {}
    for l, a in ac.items():
        sd = a.std(0, unbiased=False)
        floor = 1e-3 * float(sd.mean()) + 1e-8
        out[l] = (at[l].mean(0) - a.mean(0)) / (sd + floor)
    return out


def _scalable(v: NetView, layer: int) -> bool:
    """Whether a factor in (0, 1) on this layer's neurons can be written into the weights exactly."""
    return scale_route(v.layer(layer), 0.5) is not None


def _prefixes(n: int, dense: int = 48, total: int = 80) -> list[int]:
    ks = list(range(min(n, dense) + 1))
    if n > dense:
        extra = torch.logspace(math.log10(dense + 1), math.log10(n), max(2, total - dense)).round().long().tolist()
        ks += [k for k in extra if k > ks[-1] and k <= n]
        ks = sorted(set(ks))
    return ks


def trigger_inputs(trig: dict, input_shape: tuple[int, ...]) -> Tensor:
    """Flat indices of the input features a trigger changes. A reconstructed trigger: its mask > 0.5, grown
    by one pixel on images (a reconstruction usually finds only part of a patch)."""
    if trig.get("kind") == "reconstructed":
        m = (trig["mask"].expand(input_shape) > 0.5).float()
        if m.dim() == 3:
            m = F.max_pool2d(m[None], 3, stride=1, padding=1)[0]
        return torch.nonzero(m.flatten() > 0).flatten()
    from metanet.zoo.backdoor import trigger_tensors

    _, mask = trigger_tensors(trig, tuple(input_shape))
    return torch.nonzero(mask.flatten()).flatten()


def _cut(w: Tensor, b: Tensor | None, rows: Tensor, pixels: Tensor, means: Tensor) -> None:
    """Disconnect input features ``pixels`` from neurons ``rows`` (in place), folding what they contribute on
    average (``means``: their clean mean values) into the bias: the trigger can no longer reach these neurons
    through them, and clean inputs lose only those features' variation around their mean."""
    block = w[rows[:, None], pixels[None, :]]
    if b is not None:
        b[rows] += block @ means.to(w.dtype)
    w[rows[:, None], pixels[None, :]] = 0


def _cuttable(v: NetView, input_shape: tuple[int, ...]) -> bool:
    """Whether the first hidden layer is a Linear reading the flattened input (so a pixel is a column)."""
    r = v.regions[0]
    return bool(v.layers) and not r.conv and r.in_features == math.prod(input_shape)


@torch.no_grad()
def _select(
    v: NetView, task, x: Tensor, y: Tensor, trig: dict, max_asr: float, max_drop: float,
    alphas: tuple[float, ...], max_fraction: float, ref_acc: float | None = None,
) -> dict[str, Any]:
    """Measure every candidate edit on the calibration data and choose one (see the module docstring).
    Accuracy drops are counted from ``ref_acc`` (default: the network's own calibration accuracy)."""
    from metanet.verify import verify_stacked

    num_classes = task.num_classes
    xt = triggered_set(x, y, trig)
    yt = torch.full((len(xt),), int(trig["target"]), dtype=torch.long)
    sc = trigger_scores(v, x, xt)
    flat = [(float(s), l, j) for l, ss in sc.items() for j, s in enumerate(ss.tolist())]
    flat.sort(reverse=True)
    total = len(flat)
    per_layer: dict[int, int] = {}
    cand = []
    for f in flat:  # trigger-excited neurons, never a whole layer
        if f[0] <= 0 or len(cand) >= max(1, int(max_fraction * total)):
            continue
        if per_layer.get(f[1], 0) < v.layer(f[1]).width - 1:
            per_layer[f[1]] = per_layer.get(f[1], 0) + 1
            cand.append(f)
    # 1. scale the outputs of the top-k neurons by alpha (0: remove): one masked pass for all variants
    variants: list[dict[str, Any]] = []
    for a in alphas:
        variants += [{"kind": "scale", "k": k, "alpha": a} for k in _prefixes(len(cand)) if k > 0 or a == alphas[0]]
    masks = {L.index: torch.ones(len(variants), L.width) for L in v.layers}
    for vi, var in enumerate(variants):
        for _, l, j in cand[: var["k"]]:
            masks[l][vi, j] = var["alpha"] if _scalable(v, l) else 0.0
    clean = evaluate_masks(v, x, y, num_classes, masks).accuracy.tolist()
    asr = (predictions(v, xt, masks) == trig["target"]).double().mean(1).tolist()
    # 2. cut the input connections from the trigger's pixels (the most important 25/50/75/100% of them) into
    # the top-k first-layer neurons: stacked weights, one vmap pass over all variants
    first = v.layers[0].index if v.layers else None
    pixels = trigger_inputs(trig, tuple(task.input_shape)) if _cuttable(v, tuple(task.input_shape)) else None
    if pixels is not None and len(pixels):
        order = sorted(range(v.layers[0].width), key=lambda j: -float(sc[first][j]))
        w0 = v.params()[v.layers[0].weight].detach()
        # pixel importance: how much the trigger's change of that pixel moves the trigger-excited neurons
        shift = (xt.flatten(1)[:, pixels].mean(0) - x.flatten(1)[:, pixels].mean(0)).abs()
        imp = (sc[first].clamp(min=0)[:, None] * w0[:, pixels].abs()).sum(0) * shift
        ranked = pixels[imp.argsort(descending=True)]
        # a known trigger: also cut only its most important pixels; a reconstructed one: its whole region
        fracs = (1.0,) if trig.get("kind") == "reconstructed" else (0.25, 0.5, 0.75, 1.0)
        subsets = sorted({max(1, math.ceil(f * len(ranked))) for f in fracs})
        combos = [(k, q) for q in subsets for k in _prefixes(len(order), dense=8, total=20) if k > 0]
        params = {n: p.detach().unsqueeze(0).repeat(len(combos), *([1] * p.dim())) for n, p in v.params().items()}
        w, b = params[v.layers[0].weight], params[v.layers[0].bias] if v.layers[0].bias else None
        mean = x.flatten(1).mean(0)
        for vi, (k, q) in enumerate(combos):
            _cut(w[vi], None if b is None else b[vi], torch.tensor(order[:k]), ranked[:q], mean[ranked[:q]])
        clean += [r.accuracy for r in verify_stacked(v.model, params, task, data=(x, y))]
        asr += [r.accuracy for r in verify_stacked(v.model, params, task, data=(xt, yt))]
        variants += [{"kind": "cut", "k": k, "order": order, "pixels": ranked[:q]} for k, q in combos]
    base_acc, base_asr = clean[0], asr[0]
    drop = [(base_acc if ref_acc is None else ref_acc) - c for c in clean]
    if base_asr <= max_asr:  # the trigger does not work on this network: nothing to repair
        variants, clean, asr, drop = variants[:1], clean[:1], asr[:1], drop[:1]

    def pick(asr_goal: float, drop_goal: float) -> int | None:
        """Among the edits within both goals, the one using the smallest share of the two budgets."""
        ok = [i for i in range(len(variants)) if asr[i] <= asr_goal + 1e-12 and drop[i] <= drop_goal + 1e-12]
        if not ok:
            return None
        return min(ok, key=lambda i: (asr[i] / max_asr + max(0.0, drop[i]) / max_drop, variants[i]["k"]))

    # a margin on the calibration split, so the held-out numbers stay under the goals too
    best = pick(max_asr / 2, max_drop / 2)
    if best is None:
        best = pick(max_asr, 0.75 * max_drop)
    success = best is not None
    if best is None:
        # the goal is out of reach in one step: take the best trade-off that lowers the attack success rate
        # within half the accuracy budget; the next round starts from there
        ok = [i for i in range(len(variants)) if drop[i] <= 0.5 * max_drop + 1e-12 and asr[i] < base_asr - 1e-3]
        best = min(ok, key=lambda i: asr[i] / max_asr + max(0.0, drop[i]) / max_drop) if ok else 0
    var = variants[best]
    out: dict[str, Any] = {"strategy": "remove" if var["kind"] == "scale" and var["alpha"] == 0 else var["kind"]}
    if var["kind"] == "scale":
        chosen = cand[: var["k"]]
        out.update(neurons=[(l, j) for _, l, j in chosen], alpha=var["alpha"],
                   scores=[round(s, 3) for s, _, _ in chosen])
    else:
        rows = var["order"][: var["k"]]
        out.update(neurons=[(first, j) for j in rows], inputs=var["pixels"].tolist(),
                   input_means=x.flatten(1).mean(0)[var["pixels"]].tolist(),
                   scores=[round(float(sc[first][j]), 3) for j in rows])
    out.update(calibration={"clean_accuracy": [base_acc, clean[best]], "asr": [base_asr, asr[best]]},
               candidates_measured=len(variants), goal_reached_on_calibration=success)
    return out


def _apply(v: NetView, sel: dict[str, Any]) -> None:
    by_layer: dict[int, list[int]] = {}
    for l, j in sel["neurons"]:
        by_layer.setdefault(l, []).append(j)
    if not by_layer:
        return
    if sel["strategy"] == "cut":
        (layer, rows), = by_layer.items()
        L = v.layer(layer)
        p = v.params()
        with torch.no_grad():
            _cut(p[L.weight], p[L.bias] if L.bias else None, torch.tensor(rows), torch.tensor(sel["inputs"]),
                 torch.tensor(sel["input_means"]))
    elif sel["strategy"] == "remove":
        remove_neurons(v, by_layer)
    else:
        keep = {l: js for l, js in by_layer.items() if _scalable(v, l)}
        gone = {l: js for l, js in by_layer.items() if not _scalable(v, l)}
        if keep:
            scale_neurons(v, keep, sel["alpha"])
        if gone:
            remove_neurons(v, gone)


def concentration(mask: Tensor) -> float:
    """Largest share of a mask's mass inside one square window of a quarter of the image side (at least 3)."""
    m = mask.reshape(-1, *mask.shape[-2:]).amax(0) if mask.dim() >= 2 else mask
    k = max(3, round(min(m.shape[-2:]) / 4))
    k = min(k, *m.shape[-2:])
    win = F.avg_pool2d(m[None, None], k, stride=1)[0, 0] * (k * k)
    return float(win.max() / m.sum().clamp(min=1e-12))


def reconstruct_trigger(
    model: nn.Module, x: Tensor, num_classes: int, *, steps: int = 300, batch: int = 128, lr: float = 0.1,
    seed: int = 0, threshold: float = 3.0, compact: float = 0.8, target: int | None = None,
) -> tuple[dict | None, dict[str, Any]]:
    """Neural-Cleanse trigger reconstruction for every class at once.

    The suspect is the class with the smallest mask relative to the others (anomaly index: robust z-score of
    the log mask norms). It is reported as a backdoor target when its anomaly index exceeds ``threshold``, or,
    on images, exceeds 1 with a compact mask (:func:`concentration` >= ``compact``): natural class features
    found this way are spread along strokes, a patch trigger is not.

    Returns ``(trigger or None, info)``: the reconstructed trigger of the suspect (of ``target``, if given)
    when found, and per-class mask norms and anomaly indices.
    """
    m = copy.deepcopy(model).eval()
    for p in m.parameters():
        p.requires_grad_(False)
    shape = tuple(x.shape[1:])
    g = torch.Generator().manual_seed(seed)
    C = num_classes
    mshape = (C, 1, *shape[1:]) if len(shape) == 3 else (C, *shape)
    m_logit = torch.full(mshape, -2.0).add_(0.1 * torch.randn(mshape, generator=g)).requires_grad_(True)
    p_logit = (0.1 * torch.randn((C, *shape), generator=g)).requires_grad_(True)
    opt = torch.optim.Adam([m_logit, p_logit], lr=lr)
    lam = torch.full((C,), 1e-3)
    targets = torch.arange(C)
    best_l1 = torch.full((C,), math.inf)
    best_m = torch.sigmoid(m_logit.detach()).clone()
    best_p = torch.sigmoid(p_logit.detach()).clone()
    hits = torch.zeros(C)
    for step in range(steps):
        xb = x[torch.randint(len(x), (min(batch, len(x)),), generator=g)]
        mk, pt = torch.sigmoid(m_logit), torch.sigmoid(p_logit)
        xs = (1 - mk[:, None]) * xb[None] + (mk * pt)[:, None]  # (C, B, *shape)
        logits = m(xs.reshape(-1, *shape)).view(C, len(xb), -1)
        ce = F.cross_entropy(logits.reshape(-1, C), targets.repeat_interleave(len(xb)), reduction="none")
        ce = ce.view(C, -1).mean(1)
        l1 = mk.reshape(C, -1).sum(1)
        loss = (ce + lam * l1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            acc = (logits.argmax(-1) == targets[:, None]).double().mean(1).float()
            better = (acc >= 0.9) & (l1.detach() < best_l1)
            best_l1 = torch.where(better, l1.detach(), best_l1)
            best_m[better], best_p[better] = mk.detach()[better], pt.detach()[better]
            hits += (acc >= 0.9).float()
            if step % 10 == 9:  # Neural Cleanse's cost schedule, per class
                up = hits >= 8
                lam = torch.where(up, lam * 1.5, lam / 1.5).clamp(1e-5, 10.0)
                hits.zero_()
    finite = torch.isfinite(best_l1)
    norms = torch.where(finite, best_l1, torch.full_like(best_l1, float(best_l1[finite].max()) if finite.any() else 1))
    # anomaly index on log norms: natural "easy" classes spread the norms multiplicatively
    logs = norms.clamp(min=1e-6).log()
    med = logs.median()
    mad = 1.4826 * (logs - med).abs().median()
    anomaly = (med - logs) / mad.clamp(min=1e-8)
    t = int(anomaly.argmax()) if target is None else int(target)
    conc = concentration(best_m[t]) if len(shape) == 3 else None
    # a patch trigger is compact: a concentrated mask counts as evidence even when other classes are easy too
    found = bool(finite[t]) and (float(anomaly[t]) > threshold or (
        conc is not None and conc >= compact and float(anomaly[t]) > 1.0))
    info = {"mask_l1": norms.tolist(), "anomaly_index": anomaly.tolist(), "suspect": t,
            "suspect_anomaly_index": float(anomaly[t]), "suspect_concentration": conc, "threshold": threshold,
            "found": found}
    if not found:
        return None, info
    mask = best_m[t].expand(shape).clone() if len(shape) == 3 else best_m[t].clone()
    trig = {"kind": "reconstructed", "mask": mask, "pattern": best_p[t].clone(), "target": t,
            "anomaly_index": float(anomaly[t])}
    return trig, info


def repair_backdoor(
    model: nn.Module,
    task,
    trigger: Any = None,
    *,
    blind: bool | None = None,
    max_asr: float = 0.10,
    max_drop: float = 0.01,
    calib_split: str = "val",
    split: str = "test",
    alphas: tuple[float, ...] = (0.0, 0.25, 0.5),
    max_fraction: float = 0.5,
    max_rounds: int = 4,
    max_examples: int = 5000,
    seed: int = 0,
    inplace: bool = False,
) -> EditResult:
    """Find the neurons that respond to a backdoor trigger and remove, re-scale or disconnect them (see the
    module docstring for the procedure).

    Args:
        model: the network (MLP incl. residual, CNN channels, supported ``nn.Sequential``).
        task: its task (or name); ``calib_split`` (at most ``max_examples`` of it) chooses the edit, ``split``
            reports it.
        trigger: the known trigger (zoo dict / JSON / file). Without one, or with ``blind=True``, the trigger is
            reconstructed (the known one, if given, is then used only to report the attack success rate).
        max_asr: goal for the attack success rate; max_drop: clean-accuracy budget (fractions).
        alphas: output factors tried for the selected neurons (0 = remove).
        max_fraction: at most this fraction of all hidden neurons is considered.
        max_rounds: search rounds (each on the network as edited so far).

    Returns:
        ``EditResult(model, report)``; ``report.details`` holds the mode, the target, the edited neurons and,
        per round, the strategy (``remove`` / ``scale`` / ``cut``), the trigger scores, the calibration numbers,
        whether the goal was reached there and, blind, the reconstruction (mask norms, anomaly indices).

    Raises:
        TaskError: a trigger that is malformed or does not fit the task.
        ArchError: a network that is not supported or does not fit the task.
    """
    task, trig, original, edited, v = prepare(model, task, trigger, inplace)
    blind = trig is None if blind is None else (blind or trig is None)
    x, y = task.split(calib_split)
    if len(x) > max_examples:  # a fixed random subset keeps the many candidate passes quick
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:max_examples]
        x, y = x[keep], y[keep]
    params = {"trigger": summary(trig), "blind": blind, "max_asr": max_asr, "max_drop": max_drop}
    details: dict[str, Any] = {"mode": "blind" if blind else "known trigger"}
    opts = (max_asr, max_drop, tuple(alphas), max_fraction)
    ref = float(evaluate_masks(NetView(original), x, y, task.num_classes, {}).accuracy[0])
    rounds: list[dict[str, Any]] = []
    target = None
    for r in range(max_rounds):
        round_: dict[str, Any] = {}
        if blind:  # (re)construct the trigger on the network as edited so far
            search, info = reconstruct_trigger(edited, x, task.num_classes, seed=seed + r, target=target)
            if search is not None and rounds and info["mask_l1"][target] > 2 * rounds[0]["reconstruction"]["mask_l1"][target]:
                search = None  # twice the first trigger's size: a natural feature of the class, not the rest of it
            round_.update(reconstruction=info, trigger=summary(search), backdoor_found=search is not None)
            if search is None:
                rounds.append(round_)
                break
        else:
            search = trig
        target = search["target"]
        sel = _select(v, task, x, y, search, *opts, ref_acc=ref)
        rounds.append({**round_, **sel, "neurons": [f"{l}:{j}" for l, j in sel["neurons"]]})
        if not sel["neurons"]:
            break
        _apply(v, sel)
        # known trigger: done once the goal is reached; blind: reconstruct again, since a reconstruction
        # often finds only part of the real trigger
        if sel["goal_reached_on_calibration"] and not blind:
            break
    details.update(backdoor_found=target is not None, target=target, rounds=rounds,
                   strategy=sorted({rd["strategy"] for rd in rounds if rd.get("neurons")}),
                   neurons=sorted({n for rd in rounds for n in rd.get("neurons", [])}))
    return finish("repair-backdoor", params, original, edited, task, split, trig, details)
