"""Recipes written from the docs alone: what the docs say a recipe takes (every key, its default, which keys take a
distribution) is what validation does, and a zoo built from such a recipe stores what was asked for.

The recipe schema in :mod:`metanet.zoo.recipe` showed examples where a reader looks for defaults (``epochs: 10``
while a recipe without ``epochs`` trains 5; ``skip: 0.5`` while the default is 0); the README said "every value may
be" a distribution, though twelve keys refuse one, and left ``{int: [lo, hi]}`` out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import yaml

from metanet import tasks
from metanet.errors import RecipeError
from metanet.zoo import Zoo, build, load_recipe
from metanet.zoo import recipe as recipe_mod

ROOT = Path(__file__).resolve().parents[2]
_SECTIONS = {"arch": recipe_mod._ARCH_KEYS, "train": recipe_mod._TRAIN_KEYS, "eval": recipe_mod._EVAL_KEYS,
             "backdoor": recipe_mod._BACKDOOR_KEYS}


def _schema_lines() -> dict[str, str]:
    """``{"key" or "section.key": its line}`` of the schema block in the module docstring."""
    block = recipe_mod.__doc__.split("::\n", 1)[1].split("\n\n", 1)[0]
    out, section = {}, ""
    for line in block.splitlines():
        m = re.match(r"^    (  )?(\w+):", line)
        if not m:
            continue
        if m.group(1) is None:
            section = m.group(2)
        out[f"{section}.{m.group(2)}" if m.group(1) else m.group(2)] = line
    return out


def _code_defaults() -> dict[str, object]:
    """What parsing gives for every key a recipe leaves out, written as a recipe would write it."""
    base = {"count": 1, "tasks": ["digits"]}
    r = load_recipe(base, check_tasks=False)
    b = load_recipe({**base, "backdoor": {}}, check_tasks=False).backdoor
    out: dict[str, object] = {"description": r.description, "seed": r.seed, "population": r.population,
                              "checkpoints": r.checkpoints, "backdoor": r.backdoor,
                              "arch.same_width": r.same_width, "arch.skip": r.skip, "arch.bias": r.bias,
                              "train.train_examples": r.train_examples, "eval.train_examples": r.eval_train_examples}
    out.update({f"arch.{k}": d.to_yaml() for k, d in r.arch.items()})
    out.update({f"train.{k}": d.to_yaml() for k, d in r.train.items()})
    out.update({f"backdoor.{k}": v if isinstance(v, (str, float)) else v.to_yaml() for k, v in b.items()})
    return out


def test_the_schema_documents_every_key_with_the_default_parsing_gives():
    lines = _schema_lines()
    keys = set(recipe_mod._TOP_KEYS) | {f"{s}.{k}" for s, ks in _SECTIONS.items() for k in ks}
    assert set(lines) == keys  # every key the code takes is documented, and only those
    defaults = _code_defaults()
    for key in sorted(keys - {"name", "count", "tasks", "arch", "train", "eval"}):
        m = re.search(r"# \(default ([^)]*)\)", lines[key])
        assert m, f"the recipe schema gives no default for {key!r}: {lines[key].strip()}"
        assert yaml.safe_load(m.group(1)) == defaults[key], key
    assert "(default the file name" in lines["name"] and "*required*" in lines["count"] + lines["tasks"]


def test_the_readme_says_which_keys_take_a_distribution():
    text = " ".join(ROOT.joinpath("README.md").read_text().split())
    para = re.search(r"To build your own zoo, write a recipe:(.*?)```yaml", text).group(1)
    for kind in recipe_mod._DIST_KINDS:
        assert f"{{{kind}: [" in para, kind
    single = set(re.findall(r"`(\w+)`", re.search(r"except (.*?) which take one value", para).group(1)))
    lines = _schema_lines()
    not_dist = {k.split(".")[1] for k in lines if k.split(".")[0] in ("arch", "train", "backdoor") and "." in k
                and "DIST" not in lines[k]}
    assert single == not_dist == {"skip", "same_width", "bias", "train_examples", "fraction"}
    base = {"count": 1, "tasks": ["digits"]}
    defaults = _code_defaults()
    for key in sorted(k for k in defaults if "." in k and k.split(".")[0] != "eval"):
        section, name = key.split(".")
        value = defaults[key] if name != "target" else 0
        mapping = {**base, section: {name: [value, value] if value is not None else [10, 20]}}
        if name in single:
            with pytest.raises(RecipeError, match=re.escape(key)):
                load_recipe(mapping, check_tasks=False)
        else:
            load_recipe(mapping, check_tasks=False)
    for key in ("seed", "count", "population"):
        with pytest.raises(RecipeError, match=key):
            load_recipe({**base, key: [1, 2]}, check_tasks=False)


#: a recipe as the docs describe one: both families, every distribution form, sampled epochs, every trigger kind
FROM_DOCS = {
    "name": "from-docs", "seed": 33, "count": 10, "population": 4,
    "tasks": ["digits", "digits[0-4]+relabel(2)"],
    "checkpoints": [0, 1],
    "arch": {"family": ["mlp", "cnn"], "depth": {"int": [1, 2]}, "width": {"choice": [4, 8]}, "same_width": False,
             "activation": ["relu", "tanh"], "skip": True, "bias": False, "kernel": [3, 5], "stride": 2},
    "train": {"optimizer": ["sgd", "adam", "adamw"], "lr": {"log_uniform": [3.0e-3, 3.0e-2]},
              "momentum": {"uniform": [0.5, 0.9]}, "weight_decay": {"choice": [0.0, 1.0e-4]}, "batch_size": 64,
              "epochs": {"int": [1, 2]}, "init_scale": {"uniform": [0.8, 1.2]}, "dropout": [0.0, 0.1],
              "label_noise": 0.1, "train_examples": 300},
    "eval": {"train_examples": 100},
    "backdoor": {"fraction": 0.6, "poison_rate": {"uniform": [0.1, 0.2]}, "kind": ["square", "checker", "random"],
                 "size": {"int": [2, 3]}, "location": ["corner", "random"], "target": "random"},
}


def test_a_zoo_built_from_the_docs_stores_what_the_recipe_asked_for(tmp_path):
    recipe = load_recipe(FROM_DOCS)
    build(FROM_DOCS, tmp_path / "z", progress=False)
    with Zoo(tmp_path / "z") as z:
        nets = list(z)
        summary = z.summary()
    assert summary["networks"] == len(nets) and summary["runs"] == FROM_DOCS["count"]
    assert summary["backdoor"]["poisoned_runs"] == len({n.run for n in nets if n.backdoor and n.final})
    for run in range(FROM_DOCS["count"]):
        spec, rows = recipe.sample_run(run), [n for n in nets if n.run == run]
        # the index holds the sampled run; the checkpoints are the recipe's below the run's epochs, then its last
        assert all(n.hparams == spec.hparams and n.arch == spec.arch and n.task == spec.task for n in rows)
        h = spec.hparams
        assert [n.epoch for n in rows] == sorted({c for c in (0, 1) if c < h["epochs"]} | {h["epochs"]})
        assert h["momentum"] == 0.0 if h["optimizer"] != "sgd" else 0.5 <= h["momentum"] <= 0.9
        assert h["width"] == spec.arch.widths[1] and not spec.arch.bias  # width: the first hidden layer's
        b = rows[0].backdoor
        if b is None:
            continue
        shape = tasks.get(spec.task).input_shape
        s, (r, c) = b["size"], b["location"]
        if b["placement"] == "corner":  # bottom-right, one pixel in from both edges
            assert [r, c] == [shape[1] - s - 1, shape[2] - s - 1]
        want = {"square": [[1] * s] * s, "checker": [[(i + j) % 2 for j in range(s)] for i in range(s)]}
        assert b["pattern"] == want.get(b["kind"], b["pattern"]) and {v for row in b["pattern"] for v in row} <= {0, 1}
        # the stored attack success rate, recomputed by stamping the documented patch on the task's test images
        x, y = tasks.get(spec.task).split("test")
        xs = x[y != b["target"]].clone().float()
        xs[:, :, r : r + s, c : c + s] = torch.tensor(b["pattern"], dtype=torch.float32)
        with torch.no_grad():
            asr = (z.load(rows[-1].id)(xs).argmax(-1) == b["target"]).double().mean().item()
        assert asr == pytest.approx(rows[-1].backdoor["asr"], abs=1e-12)
    kinds = {(n.arch.family, n.backdoor["kind"] if n.backdoor else None) for n in nets}
    assert {f for f, _ in kinds} == {"mlp", "cnn"} and len({k for _, k in kinds}) >= 3
