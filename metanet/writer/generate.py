"""`generate`: a working network for a task, every weight written by the writer, verified before it is returned."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from metanet import tasks
from metanet.errors import ArchError, CheckpointError, FileFormatError, TaskError
from metanet.nets import Arch, build
from metanet.nets.arch import cnn_input_hint
from metanet.tasks.arch_text import arch_from_words, arch_words, check_arch_words, training_words
from metanet.tasks.resolve import task_input_shape, task_name
from metanet.verify import NO_PREDICTION, Report, predicted, verify, verify_stacked
from metanet._state import forked_rng, metanet_defaults
from metanet.writer.model import integer as _integer

__all__ = ["generate", "Generated", "support_set"]


def support_set(task, per_class: int | None, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The task's training split, or a seeded stratified subsample of at most ``per_class`` examples per class."""
    from metanet.tasks import Task

    # a Task builds only the rows taken (the same values): converting all of a large split cost most of the time
    fast = isinstance(task, Task) and per_class is not None
    x, y = (None, torch.from_numpy(task._labels("train"))) if fast else task.split("train")
    if per_class is None:
        return x, y
    if not fast and len(y) and (int(y.min()) < 0 or int(y.max()) >= task.num_classes):
        # a task given as any object with split and num_classes: the examples of labels past its classes were left
        # out of the support set without a word (or it came out empty: "the support set is empty")
        k = task.num_classes
        raise TaskError(f"the training split of task {task_name(task)!r} has labels {int(y.min())}.."
                        f"{int(y.max())}, but the task has {k} classes (num_classes, labels 0..{k - 1}); renumber "
                        "them (torch.unique(y, return_inverse=True)[1]) or give the task the right num_classes")
    g = torch.Generator().manual_seed(seed % 2**64)  # as torch does for negative seeds: any integer works
    keep = []
    for c in range(task.num_classes):
        idx = torch.nonzero(y == c).flatten()
        keep.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    idx = torch.cat(keep).sort().values
    if fast:
        return task._split("train", idx.numpy())
    return x[idx], y[idx]


@dataclass
class GenerationReport:
    """What :func:`generate` did: each candidate's validation score, which one won, and its test score.

    ``seed`` and ``shots`` are the arguments that, with ``task``, ``arch``, ``len(candidates)`` and ``writer``, write
    the same networks again. Unverified candidates (``verify=False``) have NaN validation scores; candidates chosen
    among by balanced accuracy (an imbalanced support set, see :func:`generate`) also have ``val_balanced_accuracy``,
    the score the choice was made by. ``writer`` is the
    identity of the writer that wrote them (:meth:`~metanet.writer.Writer.identity`): ``{"source": "shipped",
    "sha256": ...}`` (``generate(writer=None)``), ``{"source": "file", "path": ..., "sha256": ...}`` (a checkpoint
    file) or ``{"source": "in-memory"}`` (a writer no file holds), each with its ``state_sha256``; None in reports
    written before it was recorded. ``class_names``: what each output of the network means (output ``i`` is
    ``class_names[i]``: the task's names, e.g. ``from_examples(x, y, class_names=names)``; a derived task's in its
    own label order); None for a task without names and in reports written before they were recorded.

    ``seconds_write``: wall-clock seconds from the call until the candidates' weights exist: resolving the task and
    loading its data (and its validation split, when verifying), loading the writer, taking the support set, then
    the writer's one batched pass. The first call in a process loads the data and the writer, often most of this
    time (digits: ~1 s, then ~0.08 s a call once they are cached). ``seconds``: the whole call, that plus building
    the candidate networks, scoring them on ``val``, the chosen one's ``test`` score and generate's checks.
    """

    task: str
    arch: str
    support: int
    candidates: list[dict[str, float]]
    chosen: int
    test: Report | None
    seconds: float
    seconds_write: float
    extra: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    shots: int | None = None
    writer: dict[str, str] | None = None
    class_names: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (``test`` as a dict); ``metanet.io.json_safe`` makes the NaN scores of unverified
        candidates ``None`` for strict JSON, and :meth:`from_dict` reads either back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GenerationReport":
        """The report :meth:`to_dict` gave (also after a JSON round trip, where NaN scores may have become null, and
        from the output of ``metanet generate --json``, whose extra ``out`` key is ignored)."""
        if not isinstance(d, Mapping):
            raise FileFormatError(f"a generation report is a mapping (GenerationReport.to_dict()), got "
                                  f"{type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        missing = sorted(f.name for f in dataclasses.fields(cls) if f.name not in d
                         and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        if missing:
            raise FileFormatError(f"not a generation report (GenerationReport.to_dict()): missing {', '.join(missing)}")
        d = {k: v for k, v in d.items() if k in names}  # e.g. the CLI's "out": a TypeError from __init__
        # what str() and Generated.save read: malformed ones were raw AttributeErrors / KeyErrors there or here
        cands, chosen, test = d["candidates"], d["chosen"], d.get("test")
        if (not isinstance(cands, (list, tuple)) or not cands
                or not all(isinstance(c, Mapping) and {"val_accuracy", "val_loss"} <= set(c) for c in cands)):
            raise FileFormatError(f"the generation report's candidates must be a non-empty list of "
                                  f"{{val_accuracy, val_loss}} scores, got {cands!r:.80}")
        if isinstance(chosen, bool) or not isinstance(chosen, int) or not 0 <= chosen < len(cands):
            raise FileFormatError(f"the generation report's chosen candidate must be an index 0..{len(cands) - 1}, "
                                  f"got {chosen!r}")
        if d.get("writer") is not None and not isinstance(d["writer"], Mapping):
            raise FileFormatError(f"the generation report's writer is a mapping (Writer.identity()) or null, got "
                                  f"{d['writer']!r:.80}")
        names = d.get("class_names")
        if names is not None and (not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names)):
            raise FileFormatError(f"the generation report's class_names are a list of strings (one per output) or "
                                  f"null, got {names!r:.80}")
        if names is not None:
            d["class_names"] = list(names)
        if test is not None and (not isinstance(test, Mapping)
                                 or not isinstance(test.get("per_class", []), (list, tuple))):
            raise FileFormatError(f"the generation report's test score is not a Report (Report.to_dict()) or null, "
                                  f"got {test!r:.80}")
        nan = lambda v: math.nan if v is None else v  # noqa: E731
        d["candidates"] = [{k: nan(v) for k, v in c.items()} for c in cands]
        for c, read in zip(cands, d["candidates"]):
            if c["val_loss"] is None and c["val_accuracy"] is not None:  # verified: verify's loss of NaN logits
                read["val_loss"] = math.inf  # (unverified candidates have both scores NaN, so both null)
        if isinstance(test, Mapping):
            test = dict(test)
            test["loss"] = math.inf if test.get("loss") is None else test["loss"]  # verify's loss of NaN logits
            test["per_class"] = [nan(v) for v in test.get("per_class", [])]
            try:
                d["test"] = Report(**test)
            except TypeError as e:  # missing or unknown keys of the test Report
                raise FileFormatError(f"the generation report's test score is not a Report: {e}") from None
        return cls(**d)

    def __str__(self) -> str:
        lines = [f"task {self.task}  arch {self.arch}  support {self.support} examples"]
        # generate(verify=False) scores nothing (NaN val scores): say so instead of printing NaNs and "verification"
        verified = any(not math.isnan(c["val_accuracy"]) for c in self.candidates)
        balanced = verified and all("val_balanced_accuracy" in c for c in self.candidates)
        for i, c in enumerate(self.candidates):
            mark = " <- chosen" if i == self.chosen else ""
            both = f"  balanced {c['val_balanced_accuracy']:.4f}" if balanced else ""
            score = (f"val accuracy {c['val_accuracy']:.4f}{both}  loss {c['val_loss']:.4f}" if verified
                     else "not verified")
            lines.append(f"  candidate {i}: {score}{mark}")
        if balanced:
            lines.append("  chosen by balanced validation accuracy (the mean of the per-class accuracies): the support "
                         "set's classes are imbalanced")
        if self.test is not None:
            lines.append(f"test accuracy {self.test.accuracy:.4f} (n={self.test.n})")
        if self.class_names is not None and self.class_names != [str(i) for i in range(len(self.class_names))]:
            lines.append(f"outputs {_outputs(self.class_names)}")  # 0..k-1 for labels 0..k-1 would say nothing
        if self.writer is not None:
            w = self.writer
            where = {"shipped": "the shipped writer", "file": f"writer {w.get('path')}"}.get(
                w.get("source"), "an in-memory writer (no file holds it)")
            sha = w.get("sha256") or w.get("state_sha256")
            lines.append(f"written by {where}" + (f" (sha256 {sha[:12]})" if isinstance(sha, str) else ""))
        if verified:
            lines.append(f"written in {self.seconds_write:.2f} s (loading the task and writer included), "
                         f"{self.seconds:.2f} s with verification, 0 gradient steps")
        else:
            lines.append(f"written in {self.seconds_write:.2f} s (loading the task and writer included), not verified "
                         "(verify=False: candidate 0 returned), 0 gradient steps")
        return "\n".join(lines)


@dataclass
class Generated:
    """A generated network: ``model`` (a plain ``nn.Module``), ``report``, all ``candidates``, and ``written``
    (a fingerprint of ``model``'s weights as written, by which :meth:`save` tells a model changed since)."""

    model: nn.Module
    report: GenerationReport
    candidates: list[nn.Module]
    #: :func:`_fingerprint` of ``model`` as written (None: not known), so that :meth:`save` can tell whether
    #: the weights are still the written ones
    written: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        # the dataclass repr printed every candidate module and the whole report (~3,000 characters, 50 lines for
        # the default 8 candidates): one line naming what it is; print(g.report) gives the details
        r = self.report
        acc = None if r.test is None else r.test.accuracy
        test = ("test not run" if acc is None else "test accuracy n/a" if not math.isfinite(acc)
                else f"test accuracy {acc:.4f}")
        return (f"Generated(task={r.task!r}, arch={r.arch!r}, candidate {r.chosen} of {len(r.candidates)}, "
                f"{test})")

    def save(self, path: str | Path) -> Path:
        """Save ``model`` with :func:`metanet.save`; the header's metadata (:func:`metanet.load_meta`) holds the
        ``task``, the ``arch``, which ``candidate`` this is of how many (``candidates``), the ``seed`` and ``shots``
        and the ``writer`` (:attr:`GenerationReport.writer`) that write it again, how many ``support`` examples it
        was written from, what each output means (``class_names``, null when unknown), its scores ``val_accuracy`` and
        ``test_accuracy`` (``None`` when not verified: the header is strict JSON), ``generated_by``
        (``"metanet.writer"``) and ``zero_gradient_steps`` (true: written without a gradient step; ``metanet refine
        --method sgd`` sets it false). From the metadata ``m``
        alone, for a task given by name and ``m["writer"]["source"]`` shipped (check its ``sha256`` against the
        installed one) or a file::

            generate(m["task"], arch=m["arch"], candidates=m["candidates"], seed=m["seed"], shots=m["shots"],
                     writer=m["writer"].get("path")).candidates[m["candidate"]]

        is this network again (bit-identical on the same machine, torch version and thread count).

        A ``model`` changed since it was written (an in-place edit, fine-tuning, a replaced module) is saved with
        ``modified_after_generation`` true, ``zero_gradient_steps`` false and no scores (they were measured on other
        weights), with a warning: its metadata said "0 gradient steps, test accuracy 0.958" of a network pruned
        in place to 0.42. ``metanet refine --out`` and ``metanet edit --out`` (:func:`metanet.edit.save_edited`,
        ``EditResult.save``) mark the file they write from such a file so too: with ``modified_after_generation``
        true, the recipe gives the network it started from, not this one."""
        import warnings

        from metanet._state import user_stacklevel
        from metanet.io import json_safe, save

        r = self.report
        # None (no plain tensors: quantized in place, moved to 'meta') differs too: save then names the problem
        modified = self.written is not None and _fingerprint(self.model) != self.written
        saved = save(
            self.model, path, **json_safe(dict(
                task=r.task, arch=r.arch, generated_by="metanet.writer", zero_gradient_steps=not modified,
                candidate=r.chosen, candidates=len(r.candidates), seed=r.seed, shots=r.shots, support=r.support,
                writer=r.writer, class_names=r.class_names,
                val_accuracy=None if modified else r.candidates[r.chosen]["val_accuracy"],
                test_accuracy=None if modified or r.test is None else r.test.accuracy,
                **({"modified_after_generation": True} if modified else {}),
            )),
        )
        if modified:  # once saved: not before save's own refusal of such a model
            warnings.warn("Generated.save: the model's weights changed after generation (an in-place edit, "
                          "fine-tuning); it is saved with modified_after_generation=true and without the report's "
                          "scores, which were measured on the written weights", UserWarning,
                          stacklevel=user_stacklevel())
        return saved


def _fingerprint(model: nn.Module) -> str | None:
    """sha256 of ``model``'s state dict: names, shapes, dtypes and bytes of every tensor; None when an entry is no
    plain tensor with values (a quantized layer's packed weights and dtype, a tensor on the 'meta' device): hashing
    those was a raw AttributeError / NotImplementedError from Generated.save, not save's error naming them."""
    import hashlib

    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        if not isinstance(t, torch.Tensor) or t.is_meta or t.is_quantized or t.layout != torch.strided:
            return None
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def generate(
    spec: Any,
    arch: Arch | str | Mapping[str, Any] | nn.Module | None = None,
    candidates: int = 8,
    verify: bool = True,
    seed: int = 0,
    writer=None,
    shots: int | None = 1000,
) -> Generated:
    """Write a network for ``spec`` with the writer, verify ``candidates`` of them at once, return the best.

    Args:
        spec: a task name (``"mnist"``, ``"fashion-mnist[7,9]"``), free text (``"a network that can read mnist"``),
            a :class:`~metanet.tasks.Task` (or any object with ``split`` and ``num_classes``; without ``input_shape``
            and ``name`` its train split gives the shape, its type the name), labelled examples ``(x, y)`` or a
            map-style ``Dataset`` of ``(input, label)`` pairs (:func:`metanet.tasks.resolve`).
        arch: architecture to write: an :class:`~metanet.nets.Arch`, its string (``"mlp:64-128-128-10:relu"``) or
            dict, or a metanet ``MLP`` / ``CNN`` module (its architecture; its weights are not used). Default: the
            architecture a text ``spec`` names ("a 2-layer MLP with 128 units for mnist" is ``mlp:784-128-10:relu``,
            "a CNN for fashion mnist" ``cnn:1-32-32-10:relu:k3:s2``; :mod:`metanet.tasks.arch_text` says what is read
            and the defaults of the parts not named), else a one-hidden-layer MLP of width 64 for the task's input.
            An ``arch`` other than the one the text names, and words of a network metanet does not write
            ("transformer", "resnet-50", "lstm"), are an ArchError. A hidden layer narrower than the task's classes
            gets no sub-class direction per neuron (mixtures of class directions instead) and scores well below a
            wider one (digits, ``mlp:64-8-10:relu``: 0.77, against 0.94 for ``mlp:64-16-10:relu`` and 0.90 for a
            nearest-class-mean classifier); so do small CNNs, whose global average pool keeps only as many features
            as the last conv layer has channels (``cnn:1-4-10:relu:k3:s1`` on 50-shot mnist: 0.31; Adam on the same
            500 examples: 0.33).
        candidates: K weight sets written in one batched pass (different noise).
        verify: score every candidate on the task's validation split and keep the best (else candidate 0): by
            accuracy, or by balanced accuracy (the mean of the per-class accuracies) when the support set's largest
            class has more than :data:`~metanet.writer.model.BALANCE_ABOVE` times the examples of its smallest
            (:func:`~metanet.writer.model.imbalanced`): the same decision, from the same labels, that gives the
            written network its class-balanced classifier layer. Validation splits of a few examples (from
            :func:`metanet.tasks.from_examples`) can look balanced where the support is not (1 against 4 for 1
            against 12); a support made balanced by ``shots`` keeps the plain layer and plain accuracy. The
            validation split's own class ratios do not enter the choice: on a balanced support, a split far more
            imbalanced (a task object's own) is scored by plain accuracy, as its own mixture of classes weighs them.
            Ties go to the lower validation loss, then to the lower index. The report gives each candidate's
            ``val_balanced_accuracy`` when the choice was made by it.
        seed: any integer (Python, numpy or torch; taken modulo 2**64). The same seed, ``candidates`` and
            ``shots`` give bit-identical networks on the same machine, torch version and thread count (another
            thread count can change the last bits). Candidate ``i`` depends on ``candidates`` too: for an MLP or a
            CNN with one hidden layer only in the last bits (K weight sets are solved as one batch), but with more
            hidden layers (MLP or CNN) the K candidates share one random stream and candidate 0 of
            ``candidates=1`` is another network than candidate 0 of ``candidates=8``: compare and reproduce runs
            with the same ``candidates`` (:meth:`Generated.save` records it, with the seed and the candidate's
            index).
        writer: a :class:`~metanet.writer.Writer` or the path of a writer checkpoint (default: the checkpoint shipped
            inside the package). The report records which one (:attr:`GenerationReport.writer`).
        shots: support examples per class taken from the training split (None: all of it; a class with fewer
            examples gives all it has).

    Returns:
        :class:`Generated` with ``.model``, ``.report`` and ``.candidates``: float32 networks in eval mode. They
        read inputs as the task's splits give them, in [0, 1]: examples given as uint8 images 0..255 were divided
        by 255, so call the network on ``x.float() / 255`` (not ``x.float()``); :func:`metanet.verify` reads uint8
        inputs so itself.

    The caller's global state is left as it was: torch's random number generator is not consumed, and the default
    dtype, grad mode and thread count are unchanged. The networks are written on the cpu whatever torch's default
    dtype and device are (``torch.set_default_device``).
    """
    # every random draw comes from private generators; fork_rng keeps torch's global one as the caller left it
    # (building the candidate modules drew their throwaway default init from it)
    with forked_rng(), metanet_defaults():  # float32, the cpu, outside inference mode
        return _generate(spec, arch, candidates, verify, seed, writer, shots)


def _flag(name: str, v: Any) -> bool:
    """``v`` as a bool: Python or numpy booleans (``verify="no"`` is truthy: it verified), else a TaskError."""
    if isinstance(v, bool) or (str(getattr(v, "dtype", "")) == "bool" and getattr(v, "shape", None) == ()):
        return bool(v)
    raise TaskError(f"{name} must be True or False, got {type(v).__name__} {v!r}")


def _arch(arch: Any) -> Arch:
    """The architecture to write from what ``generate(arch=...)`` was given."""
    from metanet.nets import CNN, MLP

    if isinstance(arch, (MLP, CNN)):  # metanet's own modules carry their architecture
        return arch.arch
    if isinstance(arch, nn.Module):
        from metanet.nets.spec import is_wrapper, wrapper_problem

        if is_wrapper(arch):  # by name alone, a class of one's own named OptimizedModule got ": None"
            # the module inside the wrapper is what to pass ("not a OptimizedModule" named no way there)
            raise ArchError(f"the writer cannot take the architecture of this {type(arch).__name__}: "
                            f"{wrapper_problem(arch)}")
        hint = _sequential_hint(arch)
        an = "an" if type(arch).__name__[:1] in "AEIOU" else "a"  # "not a Identity"
        raise ArchError(f"the writer writes metanet's mlp and cnn families, not {an} {type(arch).__name__}; give an "
                        f"architecture{hint or ' string such as mlp:64-32-10:relu or cnn:1-16-16-10:relu:k3:s2'}")
    if not isinstance(arch, (Arch, str, Mapping)):
        raise ArchError(f"arch must be an Arch, its string (e.g. 'mlp:64-32-10:relu'), its dict or a metanet MLP/CNN "
                        f"module, got {type(arch).__name__} {arch!r}")
    return Arch.coerce(arch)


def _sequential_hint(module: nn.Module) -> str:
    """For a plain MLP, or a CNN of metanet's form, written as an ``nn.Sequential``: the metanet architecture with
    the same layers (the writer writes its parameters by the metanet modules' names, in their order)."""
    from metanet.nets import spec

    try:
        layers = [d for d in spec(module).get("layers", []) if d["type"] != "dropout"]
    except Exception:  # noqa: BLE001 - only a hint: any module metanet cannot describe gets none
        return ""
    if layers and layers[0]["type"] == "conv2d":  # the cnn:1-8-8-10:relu:k3:s2 built by hand had no hint
        return _cnn_hint(layers)
    layers = [d for d in layers if d["type"] != "flatten"]
    lin, acts = layers[::2], layers[1::2]
    if (not lin or len(lin) != len(acts) + 1 or any(d["type"] != "linear" for d in lin)
            or any(d["type"] != "act" for d in acts) or len({d["name"] for d in acts}) > 1 or len({d["bias"] for d in lin}) > 1
            or any(a["out"] != b["in"] for a, b in zip(lin, lin[1:]))):
        return ""
    try:
        arch = Arch("mlp", (lin[0]["in"], *(d["out"] for d in lin)), acts[0]["name"] if acts else "relu",
                    bias=lin[0]["bias"])
    except ArchError:
        return ""
    return f": the same layers are arch='{arch}' (a metanet MLP, its parameters named layers.{{i}}.weight)"


def _cnn_hint(layers: list[dict[str, Any]]) -> str:
    """The hint of :func:`_sequential_hint` for convolutions, each followed by the activation, then
    ``AdaptiveAvgPool2d(1)``, ``Flatten()`` and a Linear: what a metanet CNN computes."""
    body, tail = layers[:-3], layers[-3:]
    if ([d["type"] for d in tail] != ["gap", "flatten", "linear"] or not body or len(body) % 2
            or any(d["type"] != "conv2d" for d in body[::2]) or any(d["type"] != "act" for d in body[1::2])):
        return ""
    convs, acts, lin = body[::2], body[1::2], tail[2]
    k, s = convs[0]["kernel"], convs[0]["stride"]
    if (not isinstance(k, list) or not isinstance(s, list) or len(set(k)) > 1 or len(set(s)) > 1
            or any(d["kernel"] != k or d["stride"] != s or d["padding"] != [k[0] // 2] * 2 for d in convs)
            or len({d["name"] for d in acts}) > 1 or len({d["bias"] for d in (*convs, lin)}) > 1
            or any(a["out"] != b["in"] for a, b in zip((*convs, lin), (*convs[1:], lin)))):
        return ""
    try:
        arch = Arch("cnn", (convs[0]["in"], *(d["out"] for d in convs), lin["out"]), acts[0]["name"],
                    bias=lin["bias"], kernel=k[0], stride=s[0])
    except ArchError:
        return ""
    return f": the same layers are arch='{arch}' (a metanet CNN, its parameters named layers.{{i}}.weight)"


def _fit(arch: Arch, task, shape: tuple[int, ...], name: str) -> None:
    """An ArchError naming the task and a fitting architecture when ``arch`` cannot be written for ``task``."""
    k = task.num_classes
    widths, problems = list(arch.widths), []
    if arch.num_classes != k:
        problems.append(f"has {arch.num_classes} outputs but task {name!r} has {k} classes")
        widths[-1] = k
    if not arch.fits(shape):
        if arch.family == "mlp":
            problems.append(f"does not fit task {name!r}: it takes {arch.in_size} input features, the task's "
                            f"inputs have shape {shape} ({math.prod(shape)} features)")
            widths[0] = math.prod(shape)
        elif len(shape) == 3 and shape[2] == arch.in_size < shape[0] and shape[2] <= 4:  # as verify's hint
            # (H, W, C) images, e.g. (28, 28, 1): "e.g. cnn:28-..." suggested a cnn of 28 input channels
            problems.append(f"does not fit task {name!r}: it reads {arch.in_size}-channel images channels first "
                            f"(C, H, W), the task's inputs have shape {shape}, which look channels last (H, W, C): "
                            "give them as x.permute(0, 3, 1, 2) (numpy: x.transpose(0, 3, 1, 2))")
            widths[0] = shape[2]
        elif len(shape) == 3:
            problems.append(f"does not fit task {name!r}: it reads {arch.in_size}-channel images, the task's "
                            f"inputs have shape {shape}")
            widths[0] = shape[0]
        else:
            told = cnn_input_hint(arch.in_size, shape, "n", mlp=False)  # the mlp is named below, with its widths
            hint = f" ({told})" if told else ""
            raise ArchError(f"architecture {arch} does not fit task {name!r}: a cnn reads images (C, H, W), the "
                            f"task's inputs have shape {shape}{hint}; or use an mlp, e.g. "
                            f"mlp:{math.prod(shape)}-64-{k}:{arch.activation}")
    if problems:
        fitting = dataclasses.replace(arch, widths=tuple(widths))
        # channels-last inputs alone: the architecture fits them once permuted, "e.g." itself would only confuse
        raise ArchError(f"architecture {arch} {' and '.join(problems)}"
                        + (f"; e.g. {fitting}" if fitting != arch else ""))


def _generate(spec, arch, candidates, verify, seed, writer, shots) -> Generated:
    t0 = time.perf_counter()
    # a text's own architecture words ("a 2-layer MLP with 128 units"): the network written, or an error (before
    # the task's data is loaded: "an lstm for mnist1d" built the data set first)
    words = arch_words(spec) if isinstance(spec, str) and not tasks.is_task_name(spec) else None
    _warn_if_training_words(spec)
    task = tasks.resolve(spec)
    # a task given as any object with split and num_classes may have no name or input_shape
    shape, name = task_input_shape(task), task_name(task)
    candidates = _integer("candidates", candidates, 1)
    shots = None if shots is None else _integer("shots", shots, 1, "None (the whole training split) or ")
    seed = _integer("seed", seed)
    verify = _flag("verify", verify)
    if arch is None:
        arch = (Arch.default_for(shape, task.num_classes) if words is None
                else arch_from_words(words, shape, task.num_classes))
    else:
        arch = _arch(arch)
        if words is not None:
            check_arch_words(words, arch)
    # before the writer is loaded and the support set taken, naming the task, not "support inputs"
    _fit(arch, task, shape, name)
    # the validation split is built once, for this check, the candidates' scores and the constant check
    val = task.split("val") if verify else None
    if verify and len(val[1]) == 0:
        raise TaskError(
            f"task {name!r} has no validation examples to choose among the candidates; give at least 3 "
            "distinct examples of a class to tasks.from_examples (smaller classes go wholly to train), or pass "
            "verify=False"
        )
    writer = _writer(writer)
    x, y = support_set(task, shots, seed)
    with torch.no_grad():
        params = writer.write(arch, x, y, task.num_classes, candidates=candidates, seed=seed)
    t_write = time.perf_counter() - t0
    module = build(arch, seed=None)
    if verify:
        reports = verify_stacked(module, params, task, split="val", data=val)
        from metanet.writer.model import imbalanced

        # the writer's head decides from the support labels too: a candidate solved class-balanced was chosen by
        # plain accuracy on a small validation split that looked balanced (1 against 4 for a support of 1 against 12)
        balanced = imbalanced(y)
        scores = [(_balanced_accuracy(r) if balanced else r.accuracy, -r.loss if math.isfinite(r.loss) else -math.inf)
                  for r in reports]
        chosen = max(range(candidates), key=lambda i: scores[i])
        cand = [{"val_accuracy": r.accuracy, "val_loss": r.loss} for r in reports]
        if balanced:  # the score chosen by: plain accuracy alone showed "<- chosen" by a lower accuracy, unexplained
            for c, (score, _) in zip(cand, scores):
                c["val_balanced_accuracy"] = score
    else:
        chosen, cand = 0, [{"val_accuracy": math.nan, "val_loss": math.nan} for _ in range(candidates)]
    nets = []
    for i in range(candidates):
        net = build(arch, seed=None)
        net.load_state_dict({k: v[i].clone() for k, v in params.items()})
        nets.append(net.eval())
    if verify and not _warn_if_constant(nets[chosen], val, name, chosen):
        _warn_if_near_chance(scores[chosen][0], val[1], balanced, name, chosen)
    # a task from a handful of examples may have no test split: then there is no test score to report
    test = _verify_one(nets[chosen], task) if verify and _size(task, "test") else None
    if verify:
        _warn_if_classes_unscored(val[1], test, task, name)
        _warn_if_splits_shared(task, x, val[0], test is not None, name)
    report = GenerationReport(
        task=name, arch=str(arch), support=len(y), candidates=cand, chosen=chosen, test=test,
        seconds=time.perf_counter() - t0, seconds_write=t_write, seed=seed, shots=shots, writer=writer.identity(),
        class_names=_class_names(task),
    )
    return Generated(nets[chosen], report, nets, _fingerprint(nets[chosen]))


def _balanced_accuracy(r: Report) -> float:
    """The mean of a report's per-class accuracies over the classes present in its split."""
    present = [a for a in r.per_class if not math.isnan(a)]
    return sum(present) / len(present) if present else r.accuracy


def _class_names(task) -> list[str] | None:
    """The names of the task's outputs in label order, or None: a task given as any object may have none, or not
    one per class."""
    names = getattr(task, "class_names", None)
    # a list, a tuple or a numpy array (np.unique's names); a string is no list of names
    if isinstance(names, (str, bytes)) or not isinstance(names, (Sequence, np.ndarray)) or np.ndim(names) != 1:
        return None
    return [str(n) for n in names] if len(names) == task.num_classes else None


#: class names shown in full by the report's text form; more are elided (a task from examples may have thousands)
_SHOWN_NAMES = 20


def _outputs(names: list[str]) -> str:
    """``0='Sandal', 1='Sneaker', 2='Ankle boot'``: what each output index means (quoted: a name may be a number)."""
    shown = ", ".join(f"{i}={n!r}" for i, n in enumerate(names[:_SHOWN_NAMES]))
    return shown + (f", ... ({len(names)} classes)" if len(names) > _SHOWN_NAMES else "")


def _writer(writer):
    """The writer to use: a :class:`Writer`, the path of a writer checkpoint, or None (the shipped one)."""
    from metanet.writer.model import Writer

    if writer is None:  # the shipped one, read again only when its file changed (reading it was ~5 ms a call)
        from metanet.checkpoints import load_shipped

        # reused only while its weights are the file's: the report's identity() must say "shipped" (~1 ms a call)
        return load_shipped("writer", lambda: Writer.load(None), lambda w: w.identity().get("source") == "shipped")
    # a path, as `metanet generate --writer` takes (bytes too, as Writer.load and metanet.load take them)
    if isinstance(writer, (str, bytes, os.PathLike)):
        return Writer.load(writer)
    if not isinstance(writer, Writer):  # anything else was an AttributeError ('... has no attribute write')
        raise CheckpointError(f"writer must be a Writer, the path of a writer checkpoint or None (the shipped one); "
                              f"got {type(writer).__name__}")
    return writer


def _size(task, split: str) -> int:
    """The number of examples in ``split``: a Task counts them without building the split's inputs."""
    from metanet.tasks import Task

    return task.sizes()[split] if isinstance(task, Task) else len(task.split(split)[1])


def _warn_if_constant(model: nn.Module, task, name: str, chosen: int) -> bool:
    """Warn when the chosen network predicts one class on every validation example (of more than one class): its
    validation score alone (e.g. 0.5 on two balanced classes) does not say that it is a constant. ``task`` may be
    the validation split ``(x, y)`` itself (generate has built it already). Returns whether it warned."""
    import warnings

    from metanet._state import user_stacklevel
    from metanet.tasks.resolve import as_examples

    x, y = as_examples(*(task if isinstance(task, tuple) else task.split("val")))
    if len(y.unique()) < 2:
        return False
    pred = torch.empty(0, dtype=torch.long)
    with torch.no_grad():
        for i in range(0, len(x), 4096):  # as verify: in chunks; the generated networks are float32
            # as verify counts it: a row of NaN/inf logits predicts nothing (argmax called it class 0)
            pred = torch.cat([pred, predicted(model(x[i : i + 4096].to(torch.float32)))]).unique()
            if len(pred) > 1:
                return False
    if len(pred) == 1 and int(pred) == NO_PREDICTION:
        warnings.warn(f"generate: the chosen network (candidate {chosen}) for task {name!r} outputs NaN or infinite "
                      "logits on every validation example: it predicts nothing (accuracy 0); give more examples "
                      "(shots), another architecture or seed", UserWarning, stacklevel=user_stacklevel())
    elif len(pred) == 1:
        warnings.warn(f"generate: the chosen network (candidate {chosen}) for task {name!r} predicts class "
                      f"{int(pred)} on every validation example: a constant classifier; give more examples "
                      "(shots), another architecture or seed", UserWarning, stacklevel=user_stacklevel())
    return len(pred) == 1


#: a chosen network whose validation score is less than this above chance is warned about (see _warn_if_near_chance)
NEAR_CHANCE = 0.05


def _warn_if_near_chance(score: float, labels, balanced: bool, name: str, chosen: int) -> None:
    """Warn when the chosen network's validation score (balanced accuracy when ``balanced``, as it was chosen by)
    is within :data:`NEAR_CHANCE` of the best constant classifier's on the same labels: a network that varies its
    predictions but barely reads the task (1-shot mnist1d written as mlp:40-64-10:relu:nobias: validation accuracy
    0.134 on 10 classes) was returned without a word."""
    import warnings

    from metanet._state import user_stacklevel

    counts = torch.bincount(torch.as_tensor(np.asarray(labels)).long().flatten())
    counts = counts[counts > 0]
    if len(counts) < 2:  # one class: every network that predicts it is perfect, there is no chance level to beat
        return
    chance = 1 / len(counts) if balanced else int(counts.max()) / int(counts.sum())
    if score < chance + NEAR_CHANCE:
        what = "balanced accuracy" if balanced else "accuracy"
        warnings.warn(f"generate: the chosen network (candidate {chosen}) for task {name!r} has validation {what} "
                      f"{score:.3f}, within {NEAR_CHANCE} of chance ({chance:.3f}, the best constant classifier's): it "
                      "barely reads the task; give more examples (shots), another architecture or seed", UserWarning,
                      stacklevel=user_stacklevel())


def _warn_if_training_words(spec: Any) -> None:
    """Warn that the training settings a text ``spec`` names ("10 epochs", "lr 1e-3") are ignored: nothing is
    trained (a spec that is no text names none)."""
    import warnings

    from metanet._state import user_stacklevel

    said = training_words(spec)
    if said:
        warnings.warn(f"generate: {', '.join(repr(w) for w in dict.fromkeys(said))} in the text "
                      f"{'is a training setting' if len(set(said)) == 1 else 'are training settings'}, ignored: the "
                      "writer writes every weight in one pass (0 gradient steps, no dropout or normalisation layers); "
                      "metanet.refine(model, task, method='sgd') fine-tunes a written network", UserWarning,
                      stacklevel=user_stacklevel())


def _warn_if_classes_unscored(labels: torch.Tensor, test: Report | None, task, name: str) -> None:
    """Warn when the validation split has no example of some of the task's classes: the candidates were chosen (and,
    when the test split lacks them too, the test accuracy measured) without them. tasks.from_examples keeps a class
    of fewer than 3 examples wholly for training: 1 example of one digit and 60 of another gave "test accuracy 1.0000"
    without a word for a network never scored on the first; so did 2 of each of 9 digits and 60 of a tenth (a network
    right on 0.80 of all ten)."""
    import warnings

    from metanet._state import user_stacklevel
    from metanet.tasks import Task
    from metanet.tasks.examples import MIN_PER_CLASS_FOR_SPLIT

    k = task.num_classes
    counts = torch.bincount(torch.as_tensor(labels).long().flatten(), minlength=k)  # verify checked 0..k-1
    missing = torch.nonzero(counts[:k] == 0).flatten().tolist()
    if not missing:
        return
    shown = ", ".join(map(str, missing[:10])) + (f", ... ({len(missing)} in all)" if len(missing) > 10 else "")
    untested = test is not None and all(c >= len(test.per_class) or math.isnan(test.per_class[c]) for c in missing)
    scored = "the candidates were chosen, and the test accuracy measured, without them" if untested else (
        "the candidates were chosen without them")
    if isinstance(task, Task) and task.source == "examples":
        fix = (f"tasks.from_examples keeps a class of fewer than {MIN_PER_CLASS_FOR_SPLIT} examples wholly for "
               f"training: give at least {MIN_PER_CLASS_FOR_SPLIT} examples of every class")
    else:
        fix = "verify the network on examples of every class"
    warnings.warn(f"generate: task {name!r} has no validation examples of class{'es' * (len(missing) > 1)} {shown} "
                  f"({len(missing)} of its {k}): {scored}; {fix}", UserWarning, stacklevel=user_stacklevel())


def _row_digests(x: torch.Tensor) -> list[bytes]:
    """Each example's inputs (float32) as a sha256 digest, to find equal examples in two splits: not their bytes,
    which held a whole training split a second time (~190 MB for 60,000 MNIST-sized examples)."""
    import hashlib

    width = x[0].numel() if len(x) else 0  # not reshape(n, -1): ambiguous for an empty split
    rows = x.detach().to(torch.float32).reshape(len(x), width).contiguous().cpu().numpy()
    return [hashlib.sha256(r).digest() for r in rows]  # a C-contiguous row is hashed in place, not copied


def _warn_if_splits_shared(task, support: torch.Tensor, val: torch.Tensor, tested: bool, name: str) -> None:
    """Warn when a task given as any object with ``split`` (not a Task, whose splits are disjoint by construction)
    shares examples between the support set, the validation split and the test split: a data set with only train and
    test splits, given with ``split("val")`` returning the test split, chose the best of 8 on the test split and
    reported its test accuracy (digits: 0.969, the best candidate's, against 0.964 chosen on a validation split of its
    own), and one returning the same examples for every split reported the accuracy on the support itself (0.989)."""
    import warnings

    from metanet._state import user_stacklevel
    from metanet.tasks import Task

    if isinstance(task, Task):
        return
    s, v = set(_row_digests(support)), _row_digests(val)
    found = []
    n = sum(r in s for r in v)
    if n:
        found.append(f"{n} of its {len(v)} validation examples are in the support set (the candidates were chosen on "
                     "examples they were written from)")
    if tested:
        t = _row_digests(task.split("test")[0])
        in_val, in_support = set(v), sum(r in s for r in t)
        n = sum(r in in_val for r in t)
        if n:
            found.append(f"{n} of its {len(t)} test examples are in the validation split (the test accuracy is that "
                         "of the candidate chosen on them)")
        if in_support:
            found.append(f"{in_support} of its {len(t)} test examples are in the support set (the test accuracy scores "
                         "examples the network was written from)")
    if found:
        warnings.warn(f"generate: task {name!r} shares examples between its splits: {'; '.join(found)}; its scores "
                      "overstate the network: give it train, val and test splits without common examples",
                      UserWarning, stacklevel=user_stacklevel())


def _verify_one(model: nn.Module, task) -> Report:
    # inside generate() the name `verify` is its boolean argument, so the function is called from here
    return verify(model, task, split="test")
