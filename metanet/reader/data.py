"""Zoo networks as reader training examples: neural graphs with graph- and node-level targets, split by run.

Splits come from :func:`metanet.zoo.dataset.split_runs` over *all* runs of a zoo (all checkpoints of a run on one
side). ``exclude_archs`` removes architectures from ``train``/``val``/``test`` (and ``all``, their union); the
``heldout`` split is exactly the networks of those architectures (every run), never seen in training. Diverged
networks (or without a finite test accuracy) are in no split.

Targets attached to every graph (shape ``(1,)`` each, so a ``Batch`` stacks them to ``(G,)``): ``y_acc`` (test
accuracy), ``y_task`` (index into the reader's task list, -1 if unknown to it), ``y_backdoor`` (1/0), ``y_log_lr``,
``y_log_epoch``, ``y_act``, ``y_opt`` (-1 if unknown); node-level ``y_role`` ``(N,)`` (see
:mod:`metanet.reader.roles`); bookkeeping ``zoo_id`` and ``run``. The reader never sees these: its forward
reads only ``x``, ``edge_index``, ``edge_attr`` and the structure columns, plus ``w_stats`` ``(1, N_STATS)``, the
weight statistics of :meth:`~metanet.reader.Reader.weight_stats` precomputed from the weights (a cache, not
metadata).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from metanet.errors import ConfigError, ZooError, check_number
from metanet.reader.model import ACTIVATION_NAMES, OPTIMIZER_NAMES
from metanet.reader.roles import ROLE_SPLIT, hidden_activations, role_codes

__all__ = ["zoo_graphs", "SPLITS"]

SPLITS = ("train", "val", "test", "heldout", "all")


def _select(zoo, split: str, fractions, seed: int, exclude_archs: Sequence[str], max_nets: int | None):
    from metanet.nets import Arch
    from metanet.zoo.dataset import _warn_if_incomplete, split_runs

    if not isinstance(split, str) or split not in SPLITS:  # a numpy array: `in` compares elementwise
        raise ZooError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    # a negative max_nets sliced [:max_nets] off the end: one network fewer, silently
    if max_nets is not None:
        check_number("max_nets", max_nets, ">= 1 (or None: every network)", lambda v: v >= 1, integer=True)
    # checked for every split (as Zoo.dataset does): a bad seed was a raw TypeError from the max_nets sample, or
    # ignored for "all" / "heldout"; non-iterable fractions were a raw TypeError from tuple()
    sides = split_runs([n.run for n in zoo.select()], fractions, seed)
    nets = zoo.select()
    excluded = {str(Arch.coerce(a)) for a in exclude_archs}
    if split == "heldout":
        nets = [n for n in nets if str(n.arch) in excluded]
    else:
        nets = [n for n in nets if str(n.arch) not in excluded]
        if split != "all":
            _warn_if_incomplete(zoo, {n.run for n in zoo.select()})  # Zoo.dataset's split: it moves as a zoo fills
            nets = [n for n in nets if n.run in sides[split]]
    nets = [n for n in nets if not n.diverged and math.isfinite(n.test_acc)]
    if max_nets is not None and len(nets) > max_nets:
        keep = np.sort(np.random.default_rng(seed + 17).permutation(len(nets))[:max_nets])
        nets = [nets[i] for i in keep]
    return nets


def _weight_stats(graphs: list) -> torch.Tensor:
    """The reader's weight statistics (:meth:`metanet.reader.Reader.weight_stats`) of graphs of one architecture,
    precomputed once (a pure function of the weights; it saves a sort per layer in every training step)."""
    from torch_geometric.data import Batch

    from metanet.reader.model import Reader

    out = []
    for lo in range(0, len(graphs), 64):
        b = Batch.from_data_list(graphs[lo:lo + 64])
        out.append(Reader._raw_stats(Reader._groups(b), b.num_graphs))
    return torch.cat(out)


def zoo_graphs(zoo: Any, split: str = "train", tasks: Sequence[str] | None = None,
               fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, exclude_archs: Sequence[str] = (),
               max_nets: int | None = None, roles: bool = True, role_examples: int = 256,
               edge_dim: int | None = None) -> list:
    """Graphs of a zoo's networks in ``split`` with reader targets attached (see the module docstring).

    Args:
        zoo: a :class:`metanet.zoo.Zoo` or its directory.
        split: ``train``, ``val``, ``test``, ``heldout`` (the excluded architectures) or ``all`` (train, val and
            test together).
        tasks: the reader's task list (class order of ``y_task``); default: the zoo's tasks.
        fractions, seed: the run split (:func:`metanet.zoo.dataset.split_runs`).
        exclude_archs: architectures kept out of train/val/test.
        max_nets: keep at most this many networks (a seeded sample).
        roles: compute the neuron-role targets (needs the task data).
        role_examples: images per task (of the ``ROLE_SPLIT`` split) used for the roles; at least 2.
        edge_dim: ``edge_attr`` width of every graph (:func:`metanet.graph.to_graph`); default: the widest any
            architecture of the zoo needs (:func:`metanet.zoo.dataset.edge_width`), so MLP and CNN graphs batch
            together. Graphs of several zoos batch together when they are given the same width.
    """
    from metanet import tasks as task_registry
    from metanet.graph import layout, to_graphs
    from metanet.zoo import Zoo
    from metanet.zoo.dataset import edge_width

    if roles:
        check_number("role_examples", role_examples, ">= 1 (images per task the neuron roles are measured on)",
                     lambda v: v >= 1, integer=True)
        if role_examples < 2:  # (the >= 1 check above keeps its message) one example: NaN std, all "polysemantic"
            raise ConfigError(f"need role_examples >= 2 (images per task the neuron roles are measured on: a role is "
                              f"how a neuron varies across examples, and one example has no spread), got {role_examples!r}")
    for name, v in (("tasks", tasks), ("exclude_archs", exclude_archs)):
        if isinstance(v, str):  # iterated per character: tasks "mnist" gave every network y_task -1, silently
            raise ConfigError(f"zoo_graphs {name} must be a list, got the string {v!r} (for one: [{v!r}])")
        if not (v is None and name == "tasks") and not isinstance(v, Iterable):
            # an int or None was a raw TypeError from iterating it
            raise ConfigError(f"zoo_graphs {name} must be a list of names, got {v!r:.80}"
                              + (" (the default: the zoo's tasks is tasks=None)" if name == "tasks" else
                                 " (for none: [])"))
    zoo = zoo if isinstance(zoo, Zoo) else Zoo(zoo)
    tasks = list(tasks) if tasks is not None else zoo.tasks
    nets = _select(zoo, split, fractions, seed, exclude_archs, max_nets)
    width = edge_width(zoo) if edge_dim is None else edge_dim
    groups: dict[tuple[str, str], list] = {}
    for n in nets:
        groups.setdefault((str(n.arch), n.task), []).append(n)
    data_cache: dict[str, tuple] = {}
    out: dict[int, Any] = {}
    for (arch, task), members in groups.items():
        for lo in range(0, len(members), 256):
            chunk = members[lo:lo + 256]
            module, params = zoo.stacked([n.id for n in chunk])
            lay = layout(module)
            graphs = to_graphs(module, params, edge_dim=width)
            role = torch.full((len(chunk), lay.num_nodes), -1, dtype=torch.long)
            if roles:
                if task not in data_cache:
                    t = task_registry.get(task)
                    x, y = t.split(ROLE_SPLIT)
                    data_cache[task] = (x[:role_examples], y[:role_examples], t.num_classes)
                x, y, k = data_cache[task]
                with torch.no_grad():
                    acts = hidden_activations(lay, params, x)
                if acts is not None:
                    for l, a in enumerate(acts, start=1):
                        role[:, lay.nodes(l)] = role_codes(a, y, k)
            w_stats = _weight_stats(graphs)
            for i, (n, g) in enumerate(zip(chunk, graphs)):
                g.w_stats = w_stats[i:i + 1]
                g.y_acc = torch.tensor([n.test_acc], dtype=torch.float32)
                g.y_task = torch.tensor([tasks.index(n.task) if n.task in tasks else -1])
                g.y_backdoor = torch.tensor([float(n.backdoor is not None)])
                lr = n.hparams.get("lr")
                g.y_log_lr = torch.tensor([math.log10(lr) if lr else float("nan")])
                g.y_log_epoch = torch.tensor([math.log1p(n.epoch)])
                a = n.arch.activation
                g.y_act = torch.tensor([ACTIVATION_NAMES.index(a) if a in ACTIVATION_NAMES else -1])
                o = n.hparams.get("optimizer")
                g.y_opt = torch.tensor([OPTIMIZER_NAMES.index(o) if o in OPTIMIZER_NAMES else -1])
                g.y_role = role[i]
                g.zoo_id = torch.tensor([n.id])
                g.run = torch.tensor([n.run])
                out[n.id] = g
    return [out[n.id] for n in nets]
