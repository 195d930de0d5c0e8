"""Few-shot episodes for training and evaluating the writer.

An episode is one task given as a support set (what the writer conditions on) and a disjoint query set (what the
written network is scored on), plus the architecture to write. Tasks are drawn at random from the real data sets'
*training* splits: a random class subset in a random order (so labels are relabelled), optionally with a random
pixel permutation and/or intensity inversion — the same transforms as the task grammar, drawn per episode.
Held-out evaluation tasks come from other splits (``split="test"``), so their images are never trained on.
"""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.utils.data import IterableDataset

from metanet.errors import ConfigError, TaskError, check_whole
from metanet.nets import Arch

__all__ = ["Episode", "EpisodeSampler", "sample_arch", "make_episode", "check_bases"]

ACTIVATIONS = ("relu", "tanh", "gelu", "silu", "leaky_relu", "sigmoid")


@dataclass
class Episode:
    """One few-shot task: ``support`` and ``query`` pairs ``(x, y)``, the ``arch`` to write, a ``name`` and ``meta``.

    ``name`` describes the episode in the task grammar's words (``"digits[7,2]+invert"``: base data set, classes in
    label order, transforms), but a pixel permutation is spelt ``+permute`` without a seed: it is drawn from the
    episode's own random stream, not ``seeded_permutation(SEED)`` as ``+permute(SEED)`` is, so no seed names it and
    :func:`metanet.tasks.get` refuses the name instead of giving another permutation. An episode of
    :class:`EpisodeSampler` is written again by ``EpisodeSampler(..., seed=s).episode(meta["index"])``;
    ``meta["seed"]`` is ``s``.
    """

    name: str
    arch: Arch
    support: tuple[Tensor, Tensor]
    query: tuple[Tensor, Tensor]
    meta: dict = field(default_factory=dict)


def sample_arch(input_shape: tuple[int, ...], k: int, g: torch.Generator, cnn_prob: float = 0.0,
                widths=(16, 32, 64, 128), max_depth: int = 2) -> Arch:
    """A random MLP (or, for image inputs, with probability ``cnn_prob`` a CNN) for ``k`` classes."""
    r = lambda n: int(torch.randint(n, (1,), generator=g))  # noqa: E731
    act = ACTIVATIONS[r(len(ACTIVATIONS))]
    if len(input_shape) == 3 and min(input_shape[1:]) >= 8 and torch.rand(1, generator=g).item() < cnn_prob:
        chans = [(8, 16, 32)[r(3)] for _ in range(1 + r(2))]
        return Arch("cnn", (input_shape[0], *chans, k), activation=act)
    depth = 1 + r(max_depth)
    hidden = [widths[r(len(widths))] for _ in range(depth)]
    skips = depth > 1 and torch.rand(1, generator=g).item() < 0.3
    if skips:
        hidden = [hidden[0]] * depth
    return Arch("mlp", (math.prod(input_shape), *hidden, k), activation=act, skips=skips)


def make_episode(
    x: Tensor, y: Tensor, classes: list[int], shots: int, query: int, g: torch.Generator,
    permute: bool = False, invert: bool = False, name: str = "",
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor], str]:
    """Support (``shots`` per class, at most half of a class's examples) and disjoint query (up to ``query`` per
    class, from the rest) for ``classes`` of (x, y).

    ``classes`` are distinct labels of ``y``, each with at least 2 examples (one for the support, one for the query);
    class ``classes[i]`` becomes label ``i``. Raises :class:`~metanet.errors.TaskError` otherwise."""
    # shots=0 gave an empty support and shots=-1 all but one example of each class; query=0 an empty query
    for what, v in (("shots", shots), ("query", query)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise TaskError(f"episode {what} (examples per class) must be a whole number >= 1, got {v!r}")
    try:  # as ints: a tensor's 0-d elements named the episode "[tensor(0),...]" and hid repeats from set()
        classes = [operator.index(c) for c in classes]
    except TypeError:
        raise TaskError(f"an episode's classes are integer labels, got {classes!r}") from None
    # a repeated class put the same examples under two labels, in the support of one and the query of the other;
    # a class with fewer than 2 examples left the support (or both sets) without it, and [] failed in torch.cat
    if not classes or len(set(classes)) != len(classes):
        raise TaskError(f"an episode needs a list of distinct classes, got {classes!r}")
    counts = {c: int((y == c).sum()) for c in classes}
    few = {c: n for c, n in counts.items() if n < 2}
    if few:
        raise TaskError(f"episode {name or 'task'}: every class needs at least 2 examples (one for the support, one "
                        f"for the query); examples per class: {few}")
    sx, sy, qx, qy = [], [], [], []
    for new, c in enumerate(classes):
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        take = min(shots, len(idx) // 2)  # small splits: keep at least half of a class for the query
        s, q = idx[:take], idx[take : take + query]
        sx.append(x[s]), qx.append(x[q])
        sy.append(torch.full((len(s),), new)), qy.append(torch.full((len(q),), new))
    sx, qx = torch.cat(sx), torch.cat(qx)
    sy, qy = torch.cat(sy), torch.cat(qy)
    spec = f"{name}[{','.join(map(str, classes))}]"
    if permute:
        perm = torch.randperm(sx[0].numel(), generator=g)
        sx = sx.flatten(1)[:, perm].view_as(sx)
        qx = qx.flatten(1)[:, perm].view_as(qx)
        spec += "+permute"
    if invert:
        sx, qx = 1 - sx, 1 - qx
        spec += "+invert"
    return (sx, sy), (qx, qy), spec


def check_bases(bases, what: str = "episode bases") -> None:
    """Raise :class:`~metanet.errors.ConfigError` (``"{what} must be a list ..."``) unless ``bases`` is a list of at
    least one data set name."""
    # an empty list failed in torch.randint as the first episode was drawn; a bare string became its letters
    if isinstance(bases, str) or not isinstance(bases, (list, tuple)) or not bases or \
            not all(isinstance(b, str) for b in bases):
        raise ConfigError(f"{what} must be a list of at least one data set name, e.g. [digits, mnist1d], "
                          f"got {bases!r}")


class EpisodeSampler(IterableDataset):
    """An endless, seeded stream of random episodes (or a fixed list of ``length`` episodes).

    Args:
        bases: data set names to draw tasks from.
        split: which split of each data set the images come from.
        shots: (min, max) support examples per class (drawn log-uniformly).
        query: query examples per class.
        min_classes: fewest classes in a task (at most all of the data set's classes).
        p_permute / p_invert: probability of a random pixel permutation / intensity inversion.
        cnn_prob: probability of writing a CNN (image data sets only).
        seed: base seed; ``length``: number of episodes (None = endless).
    """

    def __init__(
        self,
        bases: tuple[str, ...] = ("mnist", "fashion-mnist", "digits", "mnist1d"),
        split: str = "train",
        shots: tuple[int, int] = (10, 100),
        query: int = 30,
        min_classes: int = 2,
        p_permute: float = 0.25,
        p_invert: float = 0.15,
        cnn_prob: float = 0.0,
        seed: int = 0,
        length: int | None = None,
    ) -> None:
        if isinstance(shots, (str, bytes)) or not hasattr(shots, "__len__") or len(shots) != 2:
            # unpacked below: a bare number or a triple was a raw "cannot unpack" / "too many values" error
            raise ConfigError(f"episode shots must be a pair (min, max) of support examples per class, e.g. (10, 100), "
                              f"got {shots!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ConfigError(f"episode seed must be an integer, got {seed!r}")  # torch's manual_seed refused it later
        lo = check_whole("episode shots (min)", shots[0], 1)
        hi = check_whole("episode shots (max)", shots[1], lo)
        query, min_classes = check_whole("episode query", query, 1), check_whole("episode min_classes", min_classes, 2)
        for name, v in (("p_permute", p_permute), ("p_invert", p_invert), ("cnn_prob", cnn_prob)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ConfigError(f"episode {name} is a probability: a number in [0, 1], got {v!r}")
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 1):
            raise ConfigError(f"episode stream length must be a whole number >= 1 or None (endless), got {length!r}")
        check_bases(bases)
        self.bases, self.split, self.shots, self.query = tuple(bases), split, (lo, hi), query
        self.min_classes, self.p_permute, self.p_invert, self.cnn_prob = min_classes, p_permute, p_invert, cnn_prob
        self.seed, self.length = seed, length

    def _data(self, name: str) -> tuple[Tensor, Tensor, int]:
        from metanet import tasks

        cache = self.__dict__.setdefault("_cache", {})
        if name not in cache:  # split() copies the arrays: keep one copy per data set, not one per episode
            t = tasks.get(name)
            cache[name] = (*t.split(self.split), t.num_classes)
        return cache[name]

    def __getstate__(self) -> dict:
        # pickled for spawned DataLoader workers: the data sets' splits are reloaded there, not copied through
        return {k: v for k, v in self.__dict__.items() if k != "_cache"}

    def episode(self, i: int) -> Episode:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):  # 1.0: a RuntimeError from manual_seed
            raise TaskError(f"an episode index is an integer, got {i!r}")
        i = int(i)
        # modulo 2**64, as torch reads a negative seed: the same stream for every seed it took, and no "Overflow when
        # unpacking long long" for large ones (seed_everything's 2**32 - 1 reached it through the data module)
        g = torch.Generator().manual_seed((int(self.seed) * 1_000_003 + i) % 2**64)
        name = self.bases[int(torch.randint(len(self.bases), (1,), generator=g))]
        x, y, nc = self._data(name)
        k = int(torch.randint(min(self.min_classes, nc), nc + 1, (1,), generator=g))  # at most all classes
        classes = torch.randperm(nc, generator=g)[:k].tolist()
        # log-uniform: tasks with 10 and with 1000 examples per class are equally represented per decade
        lo, hi = math.log(self.shots[0]), math.log(self.shots[1] + 1)
        # max(): a draw of exactly 0 gave exp(log(5)) = 4.99..., one shot below the minimum
        shots = int(math.exp(lo + (hi - lo) * torch.rand(1, generator=g).item()))
        shots = max(self.shots[0], min(self.shots[1], shots))
        permute = torch.rand(1, generator=g).item() < self.p_permute
        invert = torch.rand(1, generator=g).item() < self.p_invert
        support, query, spec = make_episode(x, y, classes, shots, self.query, g, permute, invert, name)
        arch = sample_arch(tuple(x.shape[1:]), k, g, cnn_prob=0.0 if permute else self.cnn_prob)
        return Episode(spec, arch, support, query, {"shots": shots, "base": name, "seed": self.seed, "index": i})

    def __iter__(self):
        # in DataLoader workers, worker w of W yields episodes w, w + W, ... (the loader interleaves them back in
        # order); each used to yield the whole stream, so every episode came W times
        info = torch.utils.data.get_worker_info()
        i, step = (0, 1) if info is None else (info.id, info.num_workers)
        while self.length is None or i < self.length:
            yield self.episode(i)
            i += step

    def __len__(self) -> int:
        if self.length is None:
            raise TypeError("an endless EpisodeSampler has no length")
        return self.length
