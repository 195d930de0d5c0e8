"""The reader: a GNN that reads a network's weights and says what it does (issue 6).

- :class:`Reader` (:mod:`metanet.reader.model`): a plain ``nn.Module`` over neural graphs; ``Reader.load(path)``.
- :func:`read`: predictions of the shipped reader for a module or a saved network file.
- :mod:`metanet.reader.roles`: how the neuron-role targets are computed.
- :mod:`metanet.reader.statnn`: the StatNN baseline (per-layer weight statistics -> gradient-boosted trees).
- :mod:`metanet.reader.lightning`: ``ReaderModule`` / ``ReaderDataModule`` for ``metanet train fit -c
  train/reader.yaml``.

PyTorch Geometric loads on first use of a name, not on ``import metanet.reader``.
"""

from __future__ import annotations

from metanet._lazy import lazy_attributes

__all__ = ["Reader", "read", "role_names", "zoo_graphs"]

_LAZY = {"Reader": "model", "role_names": "model", "read": "predict", "zoo_graphs": "data"}


__getattr__ = lazy_attributes(__name__, _LAZY)
