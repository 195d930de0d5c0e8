"""`read`: what the shipped reader says about one network (``metanet.read`` / ``metanet read FILE``)."""

from __future__ import annotations

import copy
import math
import os
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from metanet._state import kept_modes, user_stacklevel, with_metanet_defaults
from metanet.checkpoints import check_float32, load_shipped
from metanet.errors import CheckpointError, ConfigError, GraphError, whole_number
from metanet.graph.data import HIDDEN
from metanet.reader.model import ACTIVATION_NAMES, OPTIMIZER_NAMES, Reader, role_names

__all__ = ["read", "read_graph"]


def _shipped() -> Reader:
    """The shipped reader, read again only when its file changed. No guard against weights changed in place: no
    API hands this reader out and read() leaves it as it was, while hashing its 3M weights would cost ~50 ms a read."""
    return load_shipped("reader", Reader.load)  # which leaves the global RNG as it was


def _as_graph(obj: Any):
    from metanet.graph import NeuralGraph, to_graph

    if isinstance(obj, NeuralGraph):
        if _check_graph(obj) is not None:  # edges in another order: the reader reads them in to_graph's
            from metanet.graph import from_graph

            return to_graph(from_graph(obj), edge_dim=int(obj.edge_attr.shape[-1]))
        return obj
    from metanet.graph.encode import as_network

    # a path (loaded: FileFormatError for a missing file, a non-safetensors file or one without architecture), or
    # metanet.generate's result (its .model), as verify and to_graph take them
    obj = as_network(obj)
    if not isinstance(obj, nn.Module):
        raise GraphError(f"read() needs an nn.Module, a NeuralGraph, metanet.generate's result or the path of a "
                         f"network saved with metanet.save; got {type(obj).__name__}")
    from metanet.nets.spec import weights_problem

    problem = weights_problem(obj)
    if problem:  # to_graph encodes a meta-device network (an architecture graph), but there is nothing to read
        raise GraphError(f"cannot read this {type(obj).__name__}: {problem}")
    return to_graph(obj)  # GraphError naming an unsupported layer or a wrapper (parametrize, torch.compile)


#: what the reader reads of a graph besides x, edge_index, edge_attr and arch (from_graph does without them)
_READ_KEYS = ("edge_kind", "node_kind", "node_layer", "node_act", "node_pos")


def _check_graph(graph: Any) -> Any:
    """A graph given to read(): from_graph's structure checks plus the attributes only the reader needs, so that a
    tampered graph is a GraphError naming the defect, not a raw IndexError / KeyError deep in the reader. Returns
    the permutation bringing its edges into to_graph's order, or None when they are in it."""
    from torch_geometric.data import Batch

    from metanet.graph.decode import _graph_layout, _structure

    if isinstance(graph, Batch):
        if graph.num_graphs != 1:
            return None  # read_graph names that: read() reads one network
        graph = graph.get_example(0)
    lay = _graph_layout(graph)
    perm = _structure(graph, lay, "the graph: ")
    store = graph._store._mapping
    missing = [k for k in _READ_KEYS if store.get(k) is None]
    if missing:
        raise GraphError(f"the graph has no {', '.join(map(repr, missing))}; the reader needs them (to_graph writes "
                         "them)")
    n = store.get("num_nodes")
    if n is not None and (isinstance(n, bool) or whole_number(n) != lay.num_nodes):
        raise GraphError(f"the graph's num_nodes is {n!r:.40} but it has {lay.num_nodes} nodes (rows of x); delete "
                         "graph.num_nodes or set it to x.shape[0]")
    return perm


def _check_scan(scan: Any) -> bool | None:
    """``scan`` as None or a bool: ``scan=0`` ran the scan (only ``False`` turned it off), ``"no"`` too."""
    if scan is None or isinstance(scan, bool):
        return scan
    if isinstance(scan, (int, np.bool_)) and int(scan) in (0, 1):
        return bool(scan)
    raise ConfigError(f"scan must be True, False or None (the reader's default), got {scan!r}")


@torch.no_grad()
def read_graph(reader: Reader, graph: Any, scan: bool | None = None,
               image_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """Predictions of ``reader`` for one neural graph, as plain Python values (see :func:`read`). ``image_size``:
    ``(H, W)`` of the images a CNN reads (None: unknown, read on 28x28 ones and ``input_size_unknown`` says so)."""
    from metanet.reader.model import _check_image_size

    check_float32(reader)
    scan = _check_scan(scan)
    image_size = _check_image_size(image_size)
    count = int(getattr(graph, "num_graphs", 1))
    if count != 1:  # every graph head was read at [0] and the neurons of all graphs were listed as the first's
        raise GraphError(f"read() reads one network; got a Batch of {count} graphs: read them one at a time "
                         "(batch.get_example(i)), or call the Reader on the Batch for its raw outputs")
    # autocast off: the reader computes in float32 only; under a caller's torch.autocast("cpu") its sparse message
    # passing raised a raw NotImplementedError ("addmm_out_sparse_csr_impl_mkl" not implemented for 'BFloat16')
    with kept_modes(reader, eval=True), torch.autocast("cpu", enabled=False):
        return _read_graph(reader, graph, scan, image_size)  # in eval mode, then the reader's modes are given back


def _read_graph(reader: Reader, graph: Any, scan: bool | None, image_size: tuple[int, int] | None
                ) -> dict[str, Any]:
    out = reader(graph, image_size=image_size)
    if not all(bool(torch.isfinite(v).all()) for v in out.values() if v.is_floating_point()):
        # finite but huge weights (a diverged network) overflow float32 inside the reader: every reading was NaN
        big = float(torch.cat([graph.edge_attr.flatten(), graph.x[:, 0]]).abs().max())
        raise GraphError(f"the reader's float32 computation overflowed on this network (largest |weight or bias| "
                         f"{big:.3g}; a diverged network?), so every reading would be NaN: give a network with "
                         "weights of a trained or initialised scale")
    fitted = bool(getattr(reader, "scan_fitted", False))
    if scan and not fitted:
        why = ("its trigger-scan head is fitted when a fit ends, after the Lightning .ckpt files are saved: use the "
               "fit's exported .safetensors or fit it with metanet.reader.scan.fit_scan, or "
               if reader.scan_steps else "it was built with scan_steps=0: ")
        raise GraphError(f"this reader has no fitted trigger scan (metanet.reader.scan); {why}read with scan=False")
    from torch_geometric.data import Batch

    from metanet.graph.decode import _graph_layout

    lay = _graph_layout(graph.get_example(0) if isinstance(graph, Batch) else graph)
    p_reader = float(torch.sigmoid(out["backdoor"][0]))
    p_backdoor, scan_info, skipped = p_reader, None, None
    # by default, not on an input size the scan head was not fitted on (skipped says why)
    if fitted and scan is None:
        skipped = _unfitted_size(reader, graph, lay, image_size)
    if fitted and scan is not False and not skipped:
        from metanet.reader.scan import SCAN_FEATURES, scan_features, scan_problem, scanned_backdoor

        f = scan_features(reader, graph, out["task"], image_size=image_size)
        if not bool(f.isnan().any()):  # NaN: no probe images fit the network (its input size / class count)
            p_backdoor = float(torch.sigmoid(scanned_backdoor(reader, graph, out, features=f)[0]))
            scan_info = {"reader_only": p_reader, "steps": reader.scan_steps,
                         **{k: float(v) for k, v in zip(SCAN_FEATURES, f[0])}}
        else:  # the scan was silently left out: scan=True gave the weights-only probability as if it had run
            skipped = (f"the trigger scan cannot run on this network: "
                       f"{scan_problem(reader, graph, image_size) or 'it gave no features'}")
            if scan:
                raise GraphError(f"{skipped}; read with scan=None (the default: the scan where it applies) or "
                                 "scan=False for the weights-only backdoor probability")
    probs = torch.softmax(out["task"][0], -1)
    hp = {
        "lr": float(10 ** out["log_lr"][0]),
        "epoch": max(0.0, float(math.expm1(out["log_epoch"][0]))),
        "optimizer": OPTIMIZER_NAMES[int(out["optimizer"][0].argmax())],
        "activation": _activation(out["activation"][0], graph),
    }
    names = role_names(reader.num_classes)
    role_p = torch.softmax(out["role"], -1)
    k_out = int((graph.node_kind == 2).sum())
    # a neuron is selective for one of the network's own classes: a code beyond them (a 2-class network read as
    # "selective:7") is no reading of it, so the role is the likeliest among those the network can have
    valid = 2 + min(k_out, reader.num_classes)
    hidden = (graph.node_kind == 1).nonzero().flatten()
    from metanet.reader.roles import measured

    # the role head was trained on MLP neurons only (roles.measured): for a CNN's channels it is a guess
    roles_read = measured(lay)
    unknown = _unknown_input_size(reader, lay, out, image_size, scan_info is not None)
    neurons = []
    layers = graph.node_layer
    for node in hidden.tolist():
        layer = int(layers[node])
        first = int((layers == layer).nonzero()[0])
        if not roles_read:
            neurons.append({"layer": layer, "index": node - first, "role": None, "confidence": None})
            continue
        code = int(role_p[node, :valid].argmax())
        name = names[code]
        entry = {"layer": layer, "index": node - first, "role": name.split(":")[0],
                 "confidence": float(role_p[node, code])}
        if name.startswith("selective:"):
            entry["class"] = int(name.split(":")[1])
        neurons.append(entry)
    reading = {
        "accuracy": float(out["accuracy"][0].clamp(0, 1)),
        "task": reader.tasks[int(probs.argmax())],
        "task_probabilities": {t: float(p) for t, p in zip(reader.tasks, probs)},
        # False: no task of the reader has this network's input size and class count (None: reader without
        # labelled probes, or a CNN of unknown input size, which cannot tell)
        "task_fits": bool(out["task_fits"][0]) if "task_fits" in out and not unknown else None,
        "backdoor": p_backdoor,
        "trigger_scan": scan_info,
        "hyperparameters": hp,
        "neurons": neurons,
    }
    if skipped:  # only then, as out_of_range: readings the scan ran on keep their exact keys
        reading["trigger_scan_skipped"] = skipped
    if unknown:  # only then, likewise
        reading["input_size_unknown"] = unknown
    if not roles_read:  # only then: MLP readings keep their exact keys
        reading["roles_not_read"] = ("the reader learnt neuron roles from MLPs only (roles are measured on linear "
                                     "layers), so it does not read the roles of a CNN's channels: role None")
    # not where task_fits already says the readings are guesses (mnist1d's 40-input MLPs: no such in training)
    unlike = _unlike_training(reader, graph) if reading.get("task_fits") is not False else None
    if unlike:  # only then, as out_of_range: readings of networks like the training ones keep their exact keys
        reading["unlike_training"] = unlike
        warnings.warn(f"metanet.read: {unlike}", UserWarning, stacklevel=user_stacklevel())
    if k_out > reader.num_classes:  # only then: readings of networks in range keep their exact keys
        # the reader's role head names classes 0..C-1, its output-position embeddings wrap and its probes read the
        # first C outputs: on more classes every neuron came out "dead", as confidently as any reading
        why = (f"the network has {k_out} outputs (classes) but this reader was trained on networks of at most "
               f"{reader.num_classes} (its config's num_classes): it reads only their first {reader.num_classes} "
               "outputs and names no class beyond them, so its neuron roles, task and accuracy are not readings of "
               "this network")
        reading["out_of_range"] = why
        warnings.warn(f"metanet.read: {why}", UserWarning, stacklevel=user_stacklevel())
    return reading


_STAT_SLOTS = ("first layer", "middle layers", "last layer")
_STAT_NAMES = ("mean", "variance", "minimum", "25% quantile", "median", "75% quantile", "maximum")
#: the weight statistics (Reader.weight_stats: 3 layer slots x weights, biases x _STAT_NAMES) that measure scale:
#: variance, minimum, maximum. Not the location ones: clean digits MLPs, rare in training, sat up to 23 standard
#: deviations from the training mean on the median weight.
_SCALE_STATS = tuple(s * 14 + k for s in range(3) for k in (1, 2, 6))  # weights only: generate's biases sat 160 out
#: fresh MLPs of the shipped zoo recipes' kind (init scale 0.3-3, lr up to 3e-2) reached 16.5 standard deviations
#: on them; weights x10 reached 59, one first-layer weight of 10 reached 40
_UNLIKE_Z = 30.0
_UNLIKE_ZEROS = 0.5  # no zoo recipe prunes: trained or initialised weights are never exactly zero


def _unlike_training(reader: Reader, graph: Any) -> str | None:
    """Why ``graph``'s network is far from every network ``reader`` was trained on (None when it is not, or the
    reader has no fitted weight statistics): a scale statistic beyond ``_UNLIKE_Z`` standard deviations of the
    training networks' (weights x10, a huge weight), or a weight layer mostly exactly zero (pruned, zeroed). There
    the reader reads as confidently as anywhere: a clean 784-input MLP pruned to 2 % read backdoored at 0.52."""
    if not (reader.use_stats and bool(reader.fitted)):
        return None
    from torch_geometric.data import Batch

    data = graph if isinstance(graph, Batch) else Batch.from_data_list([graph])
    groups = reader._groups(data)
    if any(gr.lay.spec.get("family") == "cnn" for gr in groups):
        return None  # MLP statistics: every generated CNN's biases sat ~100 standard deviations out; roles_not_read
    for gr in groups:
        for i, layer in enumerate(gr.lay.layers):
            w = gr.params[layer.weight]
            zeros = float((w == 0).float().mean())
            if zeros >= _UNLIKE_ZEROS:
                return (f"{zeros:.0%} of the weights of its layer {i + 1} are exactly zero (pruned or zeroed), and "
                        "the reader was trained on dense networks only (none of them has such a layer), so its "
                        "backdoor and accuracy readings of this network are guesses")
    stats = reader.weight_stats(data, groups)[0]
    z = (stats - reader.s_norm[:, 0]) / reader.s_norm[:, 1]
    i = max(_SCALE_STATS, key=lambda j: abs(float(z[j])))
    if abs(float(z[i])) <= _UNLIKE_Z:
        return None
    mean, std = float(reader.s_norm[i, 0]), float(reader.s_norm[i, 1])
    what = f"{_STAT_SLOTS[i // 14]} weights' {_STAT_NAMES[i % 7]}"
    return (f"its {what} is {float(stats[i]):.3g}, {abs(float(z[i])):.0f} standard deviations from that of the "
            f"networks the reader was trained on ({mean:.3g} +- {std:.3g}; fresh networks of their kind stay within "
            f"{_UNLIKE_Z:.0f}), so its backdoor and accuracy readings of this network are guesses")


def _activation(logits: torch.Tensor, graph: Any) -> str:
    """The activation of the network's hidden neurons. The graph records it (``node_act``), so it is read from
    there: the head, trained on relu / tanh / gelu MLPs only, named relu for a sigmoid MLP, gelu for a relu CNN, and
    relu or gelu for a linear model (no hidden layer: ``identity``). It decides only among those a network mixes."""
    codes = sorted(set(graph.node_act[graph.node_kind == HIDDEN].tolist()))
    if any(not 0 <= c < len(ACTIVATION_NAMES) for c in codes):  # no code of the head's list: its guess
        return ACTIVATION_NAMES[int(logits.argmax())]
    if not codes:  # no hidden layer: the network applies no activation
        return ACTIVATION_NAMES[0]
    return ACTIVATION_NAMES[max(codes, key=lambda c: float(logits[c]))]


def _unfitted_size(reader: Reader, graph: Any, lay: Any, image_size: tuple[int, int] | None) -> str | None:
    """Why the default read skips the trigger scan of a network (of layout ``lay``) whose input size the scan head
    was not fitted on, or None (a size it was fitted on, no size recorded, or a network the scan cannot run:
    scan_problem says why). The head weighs the scan's features as they came out on the networks it was fitted
    on: the shipped one, fitted on 784-input networks, read 15 of 15 clean trained digits (64-input) MLPs as
    backdoored at 0.51-0.99."""
    from metanet.reader.scan import _CNN_HW, _input_size, scan_inputs, scan_problem

    sizes = scan_inputs(reader)
    hw = image_size or _CNN_HW
    n = _input_size(lay, hw)
    if not sizes or n in sizes or scan_problem(reader, graph, image_size) is not None:
        return None
    cnn = lay.spec.get("family") == "cnn"
    what = f"{n} ({lay.sizes[0]}x{hw[0]}x{hw[1]} images)" if cnn else str(n)
    return (f"the trigger scan's head was fitted on networks of {' or '.join(map(str, sizes))} inputs and this "
            f"network has {what}, for which its evidence is not calibrated, so backdoor is the weights-only head's "
            "(read(..., scan=True) runs the scan anyway)")


def _unknown_input_size(reader: Reader, lay: Any, out: dict[str, Any], image_size: tuple[int, int] | None,
                        scanned: bool) -> str | None:
    """Why a CNN's reading rests on an assumed image size (None when nothing does). A CNN's global average pooling
    runs it on images of any size, so its weights do not say which it was built for: unless told, the reader runs
    it on its 28x28 probes (a digits CNN, 8x8, was read as mnist with task_fits True and scanned on mnist images)."""
    if image_size is not None or lay.spec.get("family") != "cnn" or lay.sizes[0] != 1 or "task_fits" not in out:
        return None
    views = [v for v in reader._task_views() if v is not None and len(v.rows)]
    if not any(v.num_classes == lay.sizes[-1] for v in views):
        return None  # no task of its class count at any size: task_fits False holds
    bases = [b for b, n in zip(reader.probe_bases, reader.dprobe_n.tolist()) if n == 28 * 28]
    on = f"the reader's 28x28 probe images ({', '.join(bases)})" if bases else "28x28 images"
    return (f"a CNN's weights do not say which image size it reads (global average pooling takes any), and none was "
            f"given or recorded: it was read{' and trigger-scanned' if scanned else ''} on {on}, so task_fits is "
            "None, and task, accuracy and backdoor hold only for a network of 28x28 inputs; give read() "
            "input_shape=(1, H, W), metanet.generate's result, or a file saved with its task "
            "(metanet.save(net, path, task='digits'))")


def _task_image_size(reader: Reader, task: Any) -> tuple[int, int] | None:
    """``(H, W)`` of the images of a recorded task (a task name), or None when its name or data does not tell. From
    the reader's probe bank of its base data set when it has one (no data loaded), else from the task's data."""
    from metanet.errors import TaskError
    from metanet.reader.model import _task_spec

    if not isinstance(task, str) or not task:
        return None
    base, spec = _task_spec(task)
    if spec is None:  # free text, or examples' name: no task name
        return None
    if base in reader.probe_bases:
        n = int(reader.dprobe_n[reader.probe_bases.index(base)])
        side = math.isqrt(n)
        if n and side * side == n:  # the bank holds each image flattened; every image base is square
            return side, side
    try:
        from metanet.tasks import get

        shape = tuple(get(base).input_shape)
    except (TaskError, OSError):  # its data cannot be loaded here
        return None
    return (int(shape[1]), int(shape[2])) if len(shape) == 3 else None


def _image_size(reader: Reader, graph: Any, input_shape: Any, task: Any) -> tuple[int, int] | None:
    """``(H, W)`` of the images the network of ``graph`` reads, when it is a metanet CNN and ``input_shape`` (checked
    against the network) or its recorded ``task`` tells; None otherwise (an MLP's first layer tells its size)."""
    from torch_geometric.data import Batch

    from metanet.graph.decode import _graph_layout

    if isinstance(graph, Batch):
        if graph.num_graphs != 1:
            return None  # read_graph names that: read() reads one network
        graph = graph.get_example(0)
    lay = _graph_layout(graph)
    cnn = lay.spec.get("family") == "cnn"
    if input_shape is not None:
        shape = tuple(input_shape) if isinstance(input_shape, (tuple, list, torch.Size)) else ()
        dims = [whole_number(v) for v in shape]
        if not dims or any(d is None or d < 1 for d in dims):
            raise ConfigError(f"input_shape must be the shape of one input, whole numbers >= 1 (e.g. (1, 28, 28)), "
                              f"got {input_shape!r:.60}")
        n_in, dims = lay.sizes[0], tuple(dims)
        if lay.layers[0].type == "conv2d" and (len(dims) != 3 or dims[0] != n_in):
            raise ConfigError(f"input_shape {dims} is not what this CNN reads: images (C, H, W) of {n_in} "
                              f"channel{'s' * (n_in != 1)}, e.g. ({n_in}, 28, 28)")
        if lay.layers[0].type == "linear" and math.prod(dims) != n_in:
            raise ConfigError(f"input_shape {dims} has {math.prod(dims)} values, but the network's first layer "
                              f"reads {n_in} input features")
        if cnn:
            return dims[1], dims[2]
    return _task_image_size(reader, task) if cnn else None


@with_metanet_defaults()  # under a float64 default the graphs came out float64 (a raw index_copy_ error)
def read(model: Any, reader: Reader | str | os.PathLike | None = None, scan: bool | None = None,
         input_shape: Any = None) -> dict[str, Any]:
    """Read a network with the reader shipped inside metanet (or ``reader``: a :class:`Reader` or its checkpoint).

    Args:
        model: an ``nn.Module`` :func:`metanet.graph.to_graph` supports, a :class:`~metanet.graph.NeuralGraph`,
            :func:`metanet.generate`'s result (its ``.model``), or the path of a ``.safetensors`` network written by
            :func:`metanet.save`.
        reader: default: the shipped checkpoint (``metanet/checkpoints/reader.safetensors``).
        scan: run the reader's trigger scan (:mod:`metanet.reader.scan`: Neural Cleanse on the network, several
            CPU-seconds for a small MLP -- about 7 for a 784-32-10 one with the shipped reader's 300 steps -- where
            the weights-only reading takes a fraction of a second) and combine it with the weights-only backdoor
            head. Default: when the reader has a fitted scan head (the shipped one has), the scan can run the
            network and the head was fitted on networks of its input size (a CNN's: channels x H x W of the images it
            is scanned on; the shipped head: 784, 28x28 images; a reader saved before heads recorded their sizes
            counts as fitted on 784 if it has 784-input probe images, else on any), else ``trigger_scan_skipped``
            says why. ``True``: the scan on any input size,
            a GraphError where it cannot run. ``False``: skip it.
        input_shape: the shape of one input, channels first (e.g. ``(1, 8, 8)``), for a CNN: its global average
            pooling runs it on images of any size, so its weights do not say which it reads. Default: the size of
            the task :func:`metanet.generate`'s result or the file's metadata records (its base data set's); without
            one, a CNN is read and scanned on 28x28 images and ``input_size_unknown`` says so. An MLP's first layer
            gives its size (an ``input_shape`` given for one must agree with it).

    Returns:
        ``accuracy`` (predicted test accuracy on its task, float in [0, 1]), ``task`` (name),
        ``task_probabilities``, ``task_fits`` (False when none of the reader's tasks has the network's input
        size and class count, or its labelled probes cannot run the network -- a plain ``nn.Sequential`` CNN --,
        so task, accuracy and backdoor are guesses -- the trigger scan cannot run such a network, and the
        weights-only head read clean 3- to 9-class fashion-mnist MLPs as backdoored at 0.28-1.0 --; None for a
        reader without labelled probes, and for a 1-channel CNN
        whose image size is unknown), ``input_size_unknown`` (only then: why its reading rests on 28x28 images),
        ``backdoor`` (probability in [0, 1]; with the trigger scan when it ran -- by default only on input sizes
        its head was fitted on: the shipped head, fitted on 28x28-input networks, read clean trained digits (8x8)
        MLPs as backdoored, 0.5-0.99, with ``scan=True``; metanet/checkpoints/README.md),
        ``trigger_scan`` (None, or the scan's features and ``reader_only``: the weights-only probability),
        ``trigger_scan_skipped`` (only when the scan was to run by default but does not run on this network: why --
        e.g. an input size or class count none of the reader's probe images has, a 3-channel CNN, or an input size
        the scan head was not fitted on),
        ``hyperparameters`` (``lr``, ``epoch``,
        ``optimizer``, ``activation`` -- the one the network's hidden neurons apply, which its graph records;
        'identity' without a hidden layer), ``neurons`` (one dict per hidden neuron: ``layer``, ``index``, ``role``
        -- ``dead``, ``polysemantic`` or ``selective`` -- with ``class`` for selective neurons and
        ``confidence``; the class is always one of the network's; for a CNN, whose channels' roles the reader never
        learnt, ``role`` and ``confidence`` are None and ``roles_not_read`` says why), and, only for a network with
        more outputs than
        the reader's ``num_classes`` (10 for the shipped one: the most classes it was trained on), ``out_of_range``:
        why its reading is no reading of this network (a ``UserWarning`` says so too); only for an MLP (never a
        CNN: the statistics compared are MLPs'; and only with a reader of fitted weight statistics, as the shipped one)
        far from every network the reader was trained on (a weight layer mostly exactly zero -- pruned --, or the
        variance, minimum or maximum of a layer's weights beyond 30 standard deviations of the training networks' --
        weights x10, one huge weight --) and whose ``task_fits`` is not False, ``unlike_training``: why its backdoor
        and accuracy readings are guesses (a ``UserWarning`` too; a clean MLP pruned to 2 % read backdoored at 0.52,
        one with a single weight of 10 at 0.995). ``class_names``: what each
        output means (output ``i`` is ``class_names[i]``) as the file's metadata records them
        (:func:`metanet.generate` records them, :func:`metanet.load_meta`); None for a network given as no path,
        or a file that records none. ``recorded_task``: the task the file's metadata names (the one it was
        generated, edited or refined for, e.g. ``'fashion-mnist[5,7,9]'``); None likewise. No reading depends on
        them but a CNN's, whose image size the recorded task gives. ``task`` is always one of the reader's known
        tasks: a network trained on a task the reader does not know (a derived one such as ``'digits+invert'``) is
        read as the nearest known task of the same input size and class count, with the accuracy it would have
        there (``metanet.generate('digits+invert', seed=0)``, which scores 0.96 on its own task, is read as
        ``digits`` with a predicted accuracy of 0.06). When the file
        records a task, ``recorded_task`` is the truth; :func:`metanet.verify` measures the accuracy on it.

    Raises:
        GraphError: an unsupported module or layer (named), ``scan=True`` for a network the trigger scan cannot
            run (named why), non-finite weights (or float64 ones beyond float32's
            range), a network or graph on the 'meta' device (no weights), weights so large that the reader's
            float32 computation overflows, or a ``Batch`` of several graphs.
        FileFormatError: a path that is not a network file or has no architecture in its header.
        CheckpointError: a missing or mismatched reader checkpoint (a task name given as ``reader`` is named as
            one: ``read`` takes no task).
        ConfigError: ``scan`` not a bool or None; an ``input_shape`` that is no shape or not the network's.
    """
    scan = _check_scan(scan)  # before the reader is loaded and the graph built
    if reader is None:
        r = _shipped()
    elif isinstance(reader, Reader):
        r = reader
    elif isinstance(reader, (str, os.PathLike)):
        _check_not_task(reader)
        r = Reader.load(reader)
    else:
        # read(net, (x, y)) or read(net, task), by analogy with verify: "got tuple" said nothing of why
        task_like = isinstance(reader, (tuple, list, torch.utils.data.Dataset)) or hasattr(reader, "split")
        why = ("; read takes no task: the reader tells the task from the weights alone, and metanet.verify(model, "
               "task) measures the network on one") if task_like else ""
        raise CheckpointError(f"reader must be a Reader, the path of a reader checkpoint or None (the shipped one); "
                              f"got {type(reader).__name__}{why}")
    graph = _unpadded(_as_graph(model), r.edge_dim)
    _check_values(graph)
    from metanet.graph.data import OUTPUT

    from metanet.io import recorded_class_names, recorded_meta
    from metanet.verify import _is_generated

    meta = recorded_meta(model)  # read once for all three
    task = meta.get("task")
    # a CNN's image size is not in its weights: the task its file or metanet.generate's result records tells it
    size_task = model.report.task if _is_generated(model) else task
    reading = read_graph(r, graph, scan, image_size=_image_size(r, graph, input_shape, size_task))
    reading["class_names"] = recorded_class_names(meta.get("class_names"), int((graph.node_kind == OUTPUT).sum()))
    reading["recorded_task"] = task if isinstance(task, str) and task else None
    return reading


def _check_not_task(reader: str | os.PathLike) -> None:
    """CheckpointError for a task name given as ``reader``: ``read(net, "digits")``, by analogy with
    ``verify(net, "digits")``, said only "no reader checkpoint at digits"."""
    from metanet.tasks import is_task_name

    if isinstance(reader, str) and not os.path.exists(reader) and is_task_name(reader):
        raise CheckpointError(f"read's second argument is a reader checkpoint, but {reader!r} is a task name and no "
                              f"such file exists; the reader tells the task from the weights alone, and "
                              f"metanet.verify(model, {reader!r}) measures the network on that task")


def _unpadded(graph: Any, edge_dim: int) -> Any:
    """``graph`` without the edge-value columns beyond the reader's ``edge_dim`` when they are all zero: padding
    (``to_graph(cnn, edge_dim=16)`` of a 3x3 CNN), which the reader refused as "a kernel larger than 3x3". A shallow
    copy: the caller's graph keeps its columns."""
    ea = graph.edge_attr
    if ea.dim() != 2 or ea.shape[1] <= edge_dim or bool((ea[:, edge_dim:] != 0).any()):
        return graph  # the reader names what is too wide
    graph = copy.copy(graph)
    graph.edge_attr = ea[:, :edge_dim]
    return graph


def _check_values(graph: Any) -> None:
    """A GraphError for values the reader cannot read: on the 'meta' device, NaN / infinite, or (float64) beyond
    float32's range, the precision the reader computes in. One pass: a value is lost in float32 or it is not."""
    if any(v.is_meta for v in (graph.x, graph.edge_attr)):  # was a raw "Tensor.item() cannot be called" here
        raise GraphError("the graph's values are on the 'meta' device (to_graph of a network built under "
                         "torch.device('meta'): its architecture without weights), so there is nothing to read: give "
                         "a graph of a network with real weights")
    bad = over = 0
    for v in (graph.edge_attr, graph.x):
        lost = ~torch.isfinite(v.float())  # float32 values: .float() is no copy
        if bool(lost.any()):
            n = int((~torch.isfinite(v[lost])).sum())
            bad, over = bad + n, over + int(lost.sum()) - n
    if bad:  # every prediction would be NaN; from_graph refuses such a graph too
        raise GraphError(f"the network has {bad} NaN or infinite weights or biases; a reading of it would be NaN: "
                         "give a network whose parameters are all finite")
    if over:  # float64 values beyond float32's range (~3.4e38) became inf in the reader
        raise GraphError(f"the network has {over} weights or biases beyond float32's range (|value| > 3.4e38), the "
                         "precision the reader computes in; a reading of it would be NaN")
