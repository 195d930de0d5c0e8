r"""Trigger scan: Neural Cleanse on every network the reader reads, and the head that adds its evidence to the
reader's backdoor logit.

The reader's backdoor head sees weights, saliency and probe responses; a backdoor is a *behaviour* (a small patch
sends any input to one class), which an optimisation can look for directly. For each network, in one batch per
architecture (:func:`metanet.edit.cleanse.neural_cleanse`), the smallest mask :math:`\|m_t\|_1` that sends clean
inputs to class :math:`t` is found for every class, on the clean inputs of the task the reader predicts for it
(its labelled probe view: the task's classes, permutation and inversion). Features per network
(:data:`SCAN_FEATURES`), from :math:`\ell_t = \log \|m_t\|_1`:

- ``min_log_l1``: :math:`\min_t \ell_t` (a trigger is a few pixels; a natural class needs strokes);
- ``anomaly``: Neural Cleanse's anomaly index :math:`(\mathrm{med}_t \ell_t - \min_t \ell_t) / (1.4826\,
  \mathrm{MAD}_t \ell_t)`;
- ``log_gap``: the second smallest :math:`\ell_t` minus the smallest;
- ``concentration``: the share of the smallest mask's mass in its densest window
  (:func:`metanet.edit.repair.concentration`; square inputs only, else 0): a patch trigger is compact.

The scan head is logistic regression on the reader's backdoor logit :math:`r`, the logit :math:`q` of the accuracy
the reader predicts, the standardised features :math:`z` and their products with :math:`q`,

.. math::
    \mathrm{logit}\,p = b + a_r r + a_q q + a^\top z + c^\top z\, q ,

fitted (:func:`fit_scan`) on labelled networks the reader was not trained on (the val split), epoch-0 checkpoints
included as clean: an untrained network flips to any class with a small mask, so the scan's evidence counts in
proportion to how far above chance the reader reads the network (without the products, the head fitted on trained
networks alone flagged untrained ones as backdoored). A network the scan cannot run on (no probe view of its input
size and class count) gets standardised features 0, i.e. the reader's evidence alone.

The head weighs the features as they came out on the input sizes it was fitted on (a 64-input digits network's
smallest mask is much lighter than a 784-input one's): :func:`fit_scan` records those sizes in the reader's
``scan_inputs`` buffer (:func:`scan_inputs`), and :func:`metanet.read` scans by default only networks of them. A
reader saved before the record existed is taken to have been fitted on 784 inputs (28x28 images: the shipped one
and the documented recipe, zoo/backdoor-mlp.yaml) when it has 784-input probe images; without them it never
scanned such a network, and it records no size (its default scan runs wherever the scan can).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import Tensor

from metanet.errors import ConfigError, GraphError, whole_number

__all__ = ["SCAN_FEATURES", "scan_features", "scan_problem", "scan_graphs", "scanned_backdoor", "fit_scan",
           "scan_inputs"]

#: the per-network features of the trigger scan (see the module docstring)
SCAN_FEATURES = ("min_log_l1", "anomaly", "log_gap", "concentration")
_CNN_HW = (28, 28)  # the images CNNs are scanned on unless told their size (the reader's default)
#: how many distinct input sizes a reader's scan head records (its ``scan_inputs`` buffer)
SCAN_INPUT_SLOTS = 8
#: the input sizes a reader saved before ``scan_inputs`` existed is taken to have been fitted on: the shipped reader
#: and the only documented scan recipe (zoo/backdoor-mlp.yaml) fitted it on 28x28-input networks (those of them
#: its probe images have: a reader without 784-input probes never scanned a 784-input network)
LEGACY_SCAN_INPUTS = (784,)


def _input_size(lay: Any, hw: tuple[int, int]) -> int:
    """The input size the scan runs a network of layout ``lay`` on: a CNN's channels x H x W at ``hw``."""
    return lay.sizes[0] * hw[0] * hw[1] if lay.spec.get("family") == "cnn" else lay.sizes[0]


def _layout_of(graph: Any) -> Any:
    """The layout of the network of ``graph`` (of the first, for a batch of graphs of one architecture)."""
    from metanet.graph import layout

    arch = graph.arch
    return layout(arch[0] if isinstance(arch, (list, tuple)) else arch)


def scan_inputs(reader: Any) -> list[int]:
    """The input sizes the reader's scan head was fitted on (by :func:`fit_scan`; ascending). Empty: none recorded
    (a head fitted by hand), which :func:`metanet.read` scans on any network the scan can run."""
    rec = getattr(reader, "scan_inputs", None)
    return [] if rec is None else [int(n) for n in rec.tolist() if n]


def _features(l1: Tensor, masks: Tensor) -> Tensor:
    """``(k, F)`` features from per-class mask norms ``l1`` ``(k, K)`` and the masks ``(k, K, *mask shape)``."""
    from metanet.edit.repair import anomaly_index, concentration

    k, K = l1.shape
    n_in = masks[0, 0].numel()
    finite = torch.isfinite(l1)
    # a class never reached costs at least the largest norm that reached one (the whole input if none did)
    worst = torch.where(finite, l1, torch.zeros_like(l1)).amax(1, keepdim=True)
    worst = torch.where(finite.any(1, keepdim=True), worst, torch.full_like(worst, float(n_in)))
    logs = torch.where(finite, l1, worst).clamp(min=1e-6).log()
    low = logs.sort(1).values
    anomaly = anomaly_index(logs, floor=1e-3).amax(1)  # the smallest mask's
    gap = low[:, 1] - low[:, 0] if K > 1 else torch.zeros(k)
    side = math.isqrt(n_in)
    square = masks.dim() > 3 or side * side == n_in  # image masks, or flattened square images
    conc = torch.zeros(k)
    if square:
        best = logs.argmin(1)
        for i in range(k):
            m = masks[i, best[i]]
            conc[i] = concentration(m.reshape(side, side) if m.dim() == 1 else m)
    return torch.stack([low[:, 0], anomaly.clamp(max=50.0), gap, conc], 1)


@torch.no_grad()
def scan_features(reader: Any, data: Any, task_logits: Tensor | None = None, *, steps: int | None = None,
                  images: int = 512, batch: int = 32, seed: int = 0,
                  image_size: tuple[int, int] | None = None) -> Tensor:
    """Trigger-scan features ``(G, len(SCAN_FEATURES))`` of every network in ``data`` (NaN where it cannot run).

    Args:
        reader: a :class:`~metanet.reader.Reader` with data probes (its probe images are the clean inputs).
        data: a graph, a ``Batch`` or a list of graphs.
        task_logits: the reader's task logits ``(G, T)`` for ``data`` (computed if None): each network is scanned
            on its predicted task's inputs.
        steps: Neural Cleanse steps (default: the reader's ``scan_steps``); images, batch: how many of the task's
            probe images, and how many per step; seed: the scan's noise.
        image_size: ``(H, W)`` of the images the CNNs in ``data`` read (default 28x28): they are scanned on the
            probe images of that size (see :meth:`~metanet.reader.Reader.forward`).

    Shapes:
        - output: :math:`(G, F)`
    """
    from torch_geometric.data import Batch

    from metanet.edit.cleanse import neural_cleanse
    from metanet.reader.model import _check_image_size, batch_graphs

    if not reader.num_data_probes or not int(reader.dprobe_n.max()):
        raise GraphError("the trigger scan runs networks on the reader's labelled data probes; this reader has none")
    # steps=0 ran the default 300 steps, 2.7 ran 2 and images=-1 dropped the last image (a [:-1] slice), silently
    for name, v in (("steps", steps), ("images", images)):
        if v is not None and (isinstance(v, bool) or whole_number(v) is None or whole_number(v) < 1):
            raise ConfigError(f"scan_features {name} must be a whole number >= 1, got {v!r}")
    steps = whole_number(steps) if steps is not None else int(getattr(reader, "scan_steps", 0)) or 300
    images = whole_number(images)
    hw = _check_image_size(image_size) or _CNN_HW
    if not isinstance(data, Batch):  # a graph, or a list of graphs (any mix)
        data = batch_graphs(data)
    if task_logits is None:
        task_logits = reader(data, image_size=hw)["task"]
    num_graphs = int(data.num_graphs)
    out = torch.full((num_graphs, len(SCAN_FEATURES)), float("nan"))
    views = reader._task_views()
    for gr in reader._groups(data):
        lay = gr.lay
        ok, _ = _scannable(lay, views, hw)
        if ok is None:
            continue
        cnn = lay.spec.get("family") == "cnn"
        n_in, k_out = (hw[0] * hw[1] if cnn else lay.sizes[0]), lay.sizes[-1]
        logits = task_logits[gr.graphs].masked_fill(~ok, -math.inf)
        pred = logits.argmax(1)
        for t in pred.unique().tolist():
            sel = (pred == t).nonzero().flatten()
            x = reader._view_inputs(views[t], n_in)[:images]
            if cnn:
                x = x.view(-1, 1, *hw)
            params = {name: p[sel].detach() for name, p in gr.params.items()}
            with torch.enable_grad():
                l1, masks, _ = neural_cleanse(lambda xs: reader._run(lay, params, xs)[1], x, k_out, len(sel),
                                              steps=steps, batch=batch, seed=seed)
            out[gr.graphs[sel]] = _features(l1, masks)
    return out


def _scannable(lay: Any, views: Sequence[Any], hw: tuple[int, int] = _CNN_HW
               ) -> tuple[Tensor | None, str | None]:
    """The task views a network of layout ``lay`` (a CNN: reading ``hw`` images) can be scanned on (a bool mask over
    ``views``), or None and why the scan cannot run it (the reason :func:`scan_problem` gives)."""
    cnn = lay.spec.get("family") == "cnn"
    if cnn and lay.sizes[0] != 1:
        return None, (f"it is a CNN of {lay.sizes[0]} input channels, and the scan runs CNNs on the reader's "
                      f"1-channel {hw[0]}x{hw[1]} probe images only")
    if not cnn and not all(layer.type == "linear" and layer.kk == 1 for layer in lay.layers):
        return None, ("it is a plain nn.Sequential with convolution or pooling layers, which the scan cannot run "
                      "(it runs MLPs and metanet.nets CNNs)")
    n_in, k_out = (hw[0] * hw[1] if cnn else lay.sizes[0]), lay.sizes[-1]
    # a view without probe images (none of its classes in the bank) has no clean inputs to scan on
    usable = [v is not None and len(v.rows) > 0 for v in views]
    ok = torch.tensor([u and v.n_in == n_in and v.num_classes == k_out for u, v in zip(usable, views)])
    if ok.any():
        return ok, None
    shapes: dict[int, set[int]] = {}
    for u, v in zip(usable, views):
        if u:
            shapes.setdefault(v.n_in, set()).add(v.num_classes)

    def counts(k: set[int]) -> str:
        ks = [str(c) for c in sorted(k, reverse=True)]
        return ks[0] if len(ks) == 1 else f"{', '.join(ks[:-1])} or {ks[-1]}"

    valid = "; ".join(f"{n} inputs with {counts(k)} classes" for n, k in sorted(shapes.items(), reverse=True))
    valid = valid or "none"
    what = f"a CNN of {hw[0]}x{hw[1]} images ({n_in} inputs) and" if cnn else f"{n_in} inputs and"
    return None, (f"the reader has no probe images for {what} {k_out} output(s), the clean inputs the scan runs "
                  f"the network on (valid: {valid})")


def scan_problem(reader: Any, graph: Any, image_size: tuple[int, int] | None = None) -> str | None:
    """Why the trigger scan cannot run the network of ``graph`` (one neural graph; a CNN reading ``image_size``
    images, default 28x28), or None when it can: the case in which :func:`scan_features` gives NaN features."""
    from metanet.reader.model import _check_image_size

    if not reader.num_data_probes or not int(reader.dprobe_n.max()):
        return "the reader has no labelled data probes, the clean inputs the scan runs the network on"
    return _scannable(_layout_of(graph), reader._task_views(), _check_image_size(image_size) or _CNN_HW)[1]


def scanned_backdoor(reader: Any, data: Any, out: dict[str, Tensor] | None = None, features: Tensor | None = None,
                     **scan: Any) -> Tensor:
    """Backdoor logits ``(G,)`` of the reader with its trigger scan (a reader whose scan head is fitted).

    Args:
        reader: a :class:`~metanet.reader.Reader` with a fitted scan head (and data probes).
        data: a graph, a ``Batch`` or a list of graphs.
        out: the reader's outputs for ``data`` (computed if None); features: its :func:`scan_features` (computed
            if None, with the keyword arguments ``scan``).
        scan: keyword arguments of :func:`scan_features` (``steps``, ``images``, ``batch``, ``seed``,
            ``image_size``).
    """
    if not bool(getattr(reader, "scan_fitted", False)):
        raise GraphError("this reader's trigger-scan head is not fitted (Reader(scan_steps=...) and "
                         "metanet.reader.scan.fit_scan on labelled networks)")
    if out is None:
        with torch.no_grad():
            out = reader(data, image_size=scan.get("image_size"))
    f = scan_features(reader, data, out["task"], **scan) if features is None else features
    return reader.scan_bias + _head_inputs(reader, out, f) @ reader.scan_coef


def _head_inputs(reader: Any, out: dict[str, Tensor], f: Tensor) -> Tensor:
    """The scan head's inputs ``(G, 2 + 2F)``: reader backdoor logit, accuracy logit, ``z``, ``z * q``."""
    z = ((f - reader.scan_norm[:, 0]) / reader.scan_norm[:, 1]).nan_to_num(0.0).clamp(-10, 10)
    q = torch.logit(out["accuracy"].detach().clamp(1e-3, 1 - 1e-3))[:, None]
    return torch.cat([out["backdoor"].detach()[:, None], q, z, z * q], 1)


def scan_graphs(reader: Any, graphs: Sequence[Any], batch_size: int = 64) -> tuple[dict[str, Tensor], Tensor]:
    """The reader's ``backdoor`` and ``accuracy`` outputs and the :func:`scan_features` of a list of graphs, in batches
    (the inputs of :func:`scanned_backdoor` with ``out`` and ``features``)."""
    from metanet.reader.model import batch_graphs

    reader.eval()
    outs, feats = [], []
    for lo in range(0, len(graphs), batch_size):
        b = batch_graphs(list(graphs[lo:lo + batch_size]))  # zoo and fresh graphs mixed
        with torch.no_grad():
            out = reader(b)
        outs.append({k: out[k] for k in ("backdoor", "accuracy")})
        feats.append(scan_features(reader, b, out["task"]))
    return {k: torch.cat([o[k] for o in outs]) for k in ("backdoor", "accuracy")}, torch.cat(feats)


def fit_scan(reader: Any, graphs: Sequence[Any], batch_size: int = 64, c: float = 1.0) -> dict[str, Any]:
    """Fit the reader's scan head on labelled graphs (``y_backdoor``; a checkpoint at epoch 0, ``y_log_epoch == 0``, is
    an untouched initialisation and counts as clean, as in the reader's loss: untrained networks flip to a class with
    small masks too, and must not read as backdoored). Use networks the reader was not trained on. ``c``: inverse L2
    strength of the logistic regression (scikit-learn's ``C``).

    Returns: ``coef`` (the fitted coefficients of the head's inputs: the reader's backdoor logit, its accuracy
    logit, the standardised features and their products with the accuracy logit), ``intercept``, ``features``
    (:data:`SCAN_FEATURES`), ``mean`` and ``std`` (the features' standardisation), ``networks`` and ``backdoored``
    (how many networks it used, how many of them counted as backdoored) and ``inputs`` (the input sizes it recorded
    in the reader's ``scan_inputs``: :func:`scan_inputs`).
    """
    from sklearn.linear_model import LogisticRegression

    if not getattr(reader, "scan_steps", 0):
        raise GraphError("fit_scan needs a reader built with scan_steps > 0 (its scan head's buffers)")
    unlabelled = [i for i, g in enumerate(graphs) if "y_backdoor" not in g or "y_log_epoch" not in g]
    if unlabelled:  # an AttributeError before
        raise GraphError(f"fit_scan needs labelled graphs (y_backdoor, y_log_epoch: metanet.reader.data.zoo_graphs); "
                         f"graph(s) {unlabelled[:5]} have none")
    keep = [g for g in graphs if float(g.y_backdoor) >= 0]
    labels = torch.tensor([float(g.y_backdoor) * float(float(g.y_log_epoch) > 0) for g in keep])
    if min(float(labels.sum()), len(keep) - float(labels.sum())) < 2:
        raise GraphError(f"fit_scan needs at least two networks of each label; got {len(keep)} with "
                         f"{int(labels.sum())} backdoored")
    # the input sizes the scan runs on here (CNNs at 28x28, as scan_graphs runs them): read() scans only those by
    # default, the head's evidence is not calibrated for others (before the scan: a refusal costs no scan)
    views = reader._task_views()
    sizes = sorted({_input_size(lay, _CNN_HW) for lay in map(_layout_of, keep)
                    if _scannable(lay, views)[0] is not None})
    if len(sizes) > SCAN_INPUT_SLOTS:
        raise GraphError(f"fit_scan records at most {SCAN_INPUT_SLOTS} input sizes of the networks it fits on; these "
                         f"have {len(sizes)} ({', '.join(map(str, sizes))}): fit one scan head per group of sizes")
    out, f = scan_graphs(reader, keep, batch_size)
    mean = f.nanmean(0).nan_to_num(0.0)
    std = ((f - mean).pow(2).nanmean(0).sqrt()).nan_to_num(1.0).clamp(min=1e-6)
    with torch.no_grad():
        reader.scan_norm[:, 0], reader.scan_norm[:, 1] = mean, std
    x = _head_inputs(reader, out, f).double().numpy()
    lr = LogisticRegression(C=c, max_iter=5000).fit(x, labels.numpy())
    with torch.no_grad():
        reader.scan_coef.copy_(torch.as_tensor(lr.coef_[0], dtype=torch.float32))
        reader.scan_bias.fill_(float(lr.intercept_[0]))
        reader.scan_fitted.fill_(True)
        reader.scan_inputs.zero_()
        reader.scan_inputs[:len(sizes)] = torch.tensor(sizes, dtype=torch.long)
    return {"coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0]), "features": list(SCAN_FEATURES),
            "mean": mean.tolist(), "std": std.tolist(), "networks": len(keep), "backdoored": int(labels.sum()),
            "inputs": sizes}
