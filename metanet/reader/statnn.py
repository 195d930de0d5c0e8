"""StatNN baseline (Unterthiner et al. 2020, "Predicting neural network accuracy from weights").

Features per network: for the weights and the biases of every weight layer, mean, variance and the 0/25/50/75/100 %
quantiles (7 each; zero for a layer without bias; a convolution's kernels and a Linear layer's weights alike, residual
skips excluded: they are no weights). Architectures of different depths are made comparable by fixed *layer slots*:
first layer, middle layers (features averaged over them; zero if none) and last layer, plus four architecture
features (not training metadata): log(width of the first layer), log(1 + mean width of the middle layers; 0 if
none), log(input size: features of an MLP, channels of a CNN) and the number of hidden layers -> 3 x 14 + 4 = 46
features. (The output count, the width of the last slot, is left out: the reader's statistics add it as a 47th.) A gradient-boosted
tree model (scikit-learn ``HistGradientBoostingRegressor`` / ``...Classifier``) is fitted per target.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from metanet.errors import ConfigError, GraphError, check_number

__all__ = ["statnn_features", "StatNN"]

_Q = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0])


def _stats(v: torch.Tensor) -> list[float]:
    v = v.double().flatten()
    if v.numel() == 0:
        return [0.0] * 7
    return [float(v.mean()), float(v.var(unbiased=False)), *torch.quantile(v, _Q.double()).tolist()]


def _graph(obj: Any, of: str = "") -> Any:
    """``obj`` as one neural graph: a NeuralGraph as it is, an ``nn.Module`` encoded with ``to_graph``; anything else
    (and a module without weights: on the 'meta' device) a clear error instead of an AttributeError / RuntimeError."""
    from torch import nn

    if isinstance(obj, nn.Module):  # was an AttributeError ('MLP' object has no attribute 'layout')
        from metanet.graph import to_graph
        from metanet.nets.spec import weights_problem

        problem = weights_problem(obj)
        if problem:  # to_graph encodes its architecture; its statistics were "Tensor.item() ... on meta tensors"
            raise GraphError(f"StatNN cannot read this {type(obj).__name__}: {problem}")
        return to_graph(obj)
    from metanet.graph import NeuralGraph
    from metanet.graph.mapping import is_graph

    # is_graph, not hasattr(obj, "layout"): a tensor has a layout too ("'Tensor' object has no attribute 'x'"); a
    # plain Data has no architecture to read
    if not (is_graph(obj) and isinstance(obj, NeuralGraph)):
        what = f"{of}{type(obj).__name__}" + (" that is not a NeuralGraph" if is_graph(obj) else "")
        if isinstance(obj, (torch.Tensor, np.ndarray)) and obj.ndim == 1 and obj.shape[0] == 46:
            what += " of 46 values (one network's features? StatNN takes features as one (networks, 46) matrix)"
        raise ConfigError(f"StatNN reads NeuralGraphs (metanet.graph.to_graph), nn.Modules or a (networks, 46) feature "
                          f"matrix; got {what}")
    if obj.x.is_meta:
        raise GraphError("StatNN cannot read a graph on the 'meta' device (an architecture without weights)")
    return obj


def statnn_features(graph: Any) -> np.ndarray:
    """The 46 StatNN features of one :class:`~metanet.graph.NeuralGraph` or ``nn.Module`` (reads only weights and
    architecture)."""
    graph = _graph(graph)
    lay = graph.layout
    per_layer = []
    for layer in lay.layers:
        l = layer.index
        e = lay.edges(l)
        ea = graph.edge_attr[e][: layer.n_in * layer.n_out, : layer.kk]
        nb = graph.x[lay.nodes(l), 0] if layer.bias is not None else torch.zeros(0)
        per_layer.append((_stats(ea) + _stats(nb), layer.n_out))
    first, last = per_layer[0], per_layer[-1]
    mid = per_layer[1:-1]
    mid_feats = np.mean([m[0] for m in mid], 0).tolist() if mid else [0.0] * 14
    mid_w = float(np.mean([m[1] for m in mid])) if mid else 0.0
    feats = first[0] + mid_feats + last[0] + [math.log(first[1]), math.log1p(mid_w), math.log(lay.sizes[0]),
                                              float(len(lay.layers) - 1)]
    return np.asarray(feats, dtype=np.float64)


class StatNN:
    """Gradient-boosted trees on :func:`statnn_features`: ``fit(graphs, y)``, ``predict(graphs)``.

    Args:
        classifier: fit a classifier (e.g. backdoor) instead of a regressor; ``predict`` then gives the positive
            class probability.
        max_iter, learning_rate, seed: of the boosted trees.
    """

    def __init__(self, classifier: bool = False, max_iter: int = 300, learning_rate: float = 0.05, seed: int = 0):
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        # checked here: scikit-learn's InvalidParameterError came from fit(), after the features were computed
        check_number("StatNN max_iter", max_iter, ">= 1", lambda v: v >= 1, integer=True)
        check_number("StatNN learning_rate", learning_rate, "> 0", lambda v: v > 0)
        # scikit-learn's InvalidParameterError came from fit() here too; "yes" made a classifier
        check_number("StatNN seed", seed, ">= 0 and < 2**32", lambda v: 0 <= v < 2**32, integer=True)
        if not isinstance(classifier, (bool, np.bool_)):
            raise ConfigError(f"StatNN classifier must be True or False, got {classifier!r}")

        cls = HistGradientBoostingClassifier if classifier else HistGradientBoostingRegressor
        self.classifier = classifier
        self.model = cls(max_iter=max_iter, learning_rate=learning_rate, random_state=seed)

    @staticmethod
    def features(graphs: Sequence[Any]) -> np.ndarray:
        """Features of many graphs: the ``w_stats`` that zoo graphs carry (the reader's batched weight statistics,
        whose first 46 columns are these features, computed in float32) where present, else
        :func:`statnn_features`. An ``nn.Module`` is encoded with :func:`metanet.graph.to_graph` first."""
        from torch import nn
        from torch_geometric.data import Batch, Data

        if isinstance(graphs, Batch):  # iterated as its (key, value) pairs: "got a sequence of tuple"
            graphs = graphs.to_data_list()
        elif isinstance(graphs, (Data, nn.Module)):  # one network
            graphs = [graphs]
        elif isinstance(graphs, (str, bytes)) or not isinstance(graphs, Iterable):
            raise ConfigError(f"StatNN reads NeuralGraphs (metanet.graph.to_graph), nn.Modules or a (networks, 46) "
                              f"feature matrix; got {type(graphs).__name__}")
        graphs = list(graphs)  # a generator had no len()
        if len(graphs) == 0:  # np.stack([]) fails; no networks have no features
            return np.zeros((0, 46))
        out = []
        for g in graphs:
            if not isinstance(g, Data) or not isinstance(getattr(g, "w_stats", None), torch.Tensor):
                g = _graph(g, "a sequence of ")
            cached = getattr(g, "w_stats", None)
            if isinstance(cached, torch.Tensor) and cached.dim() == 2 and cached.shape[1] >= 46:
                out.append(cached[0, :46].double().numpy())
            else:
                out.append(statnn_features(g))
        return np.stack(out)

    def _matrix(self, graphs_or_features: Any) -> np.ndarray:
        """The ``(networks, 46)`` feature matrix of graphs, modules, or features given as a numpy array or a torch
        tensor (a tensor was iterated as graphs: AttributeError 'torch.layout' ...)."""
        if isinstance(graphs_or_features, torch.Tensor):
            graphs_or_features = graphs_or_features.detach().cpu().double().numpy()
        if not isinstance(graphs_or_features, np.ndarray):
            return self.features(graphs_or_features)
        X = graphs_or_features
        if X.ndim != 2 or X.shape[1] != 46:
            raise ConfigError(f"StatNN features must be a (networks, 46) matrix (statnn_features of each network); "
                              f"got shape {X.shape}")
        return X

    @staticmethod
    def _finite(X: np.ndarray, what: str) -> np.ndarray:
        """``X`` if every feature is finite: a network with NaN / infinite weights has NaN features, which scikit-learn
        took as missing values (a prediction for it, silently) or failed on ("window shape cannot be larger ...")."""
        try:
            bad = ~np.isfinite(X.astype(np.float64)).all(1)
        except (TypeError, ValueError):
            raise ConfigError(f"StatNN features must be numbers, got a {X.dtype} matrix") from None
        if bad.any():
            raise ConfigError(f"StatNN.{what}: network(s) {np.flatnonzero(bad)[:5].tolist()} (of {len(X)}) have NaN or "
                              "infinite features (NaN or infinite weights: a diverged network?); drop them first")
        return X

    def fit(self, graphs_or_features: Any, y: Sequence[float]) -> "StatNN":
        X = self._finite(self._matrix(graphs_or_features), "fit")
        y = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
        if y.ndim == 2 and y.shape[1] == 1:  # a column of targets
            y = y[:, 0]
        if y.ndim != 1:
            raise ConfigError(f"StatNN.fit needs one target per network (a 1-D sequence); got shape {y.shape}")
        if len(X) == 0:
            raise ConfigError("StatNN.fit needs at least one network")
        if len(X) != len(y):
            raise ConfigError(f"StatNN.fit got {len(X)} networks but {len(y)} targets")
        try:
            if np.iscomplexobj(y):  # astype dropped the imaginary part (a ComplexWarning), then scikit-learn failed
                raise TypeError
            finite = np.isfinite(y.astype(np.float64))
        except (TypeError, ValueError):
            raise ConfigError(f"StatNN.fit needs numeric targets, got {y.dtype} values such as {y[0]!r}") from None
        if not finite.all():  # scikit-learn's ValueError "Input y contains NaN"; e.g. y_log_lr of nets without lr
            raise ConfigError(f"StatNN.fit got {int((~finite).sum())} NaN or infinite targets (of {len(y)}); drop "
                              "those networks first")
        if self.classifier:
            # predict() reports column 1 of predict_proba as the positive class: with one class seen, or labels
            # other than 0/1, that column is not "positive" (all-backdoored training nets predicted p = 0)
            labels = set(np.unique(y).tolist())
            if not labels <= {0, 1}:
                raise ConfigError(f"StatNN(classifier=True) needs 0/1 labels, got {sorted(labels)[:5]}")
            if len(labels) < 2:
                raise ConfigError(f"StatNN(classifier=True) needs networks of both classes (0 and 1); all {len(y)} "
                                  f"are {int(y[0])}")
        self.model.fit(X, y)
        self.fitted = True
        return self

    def predict(self, graphs_or_features: Any) -> np.ndarray:
        if not getattr(self, "fitted", False):
            raise ConfigError("this StatNN is not fitted: call fit(graphs, targets) first")
        X = self._finite(self._matrix(graphs_or_features), "predict")
        if len(X) == 0:
            return np.zeros(0)
        if self.classifier:
            return self.model.predict_proba(X)[:, 1]
        return self.model.predict(X)
