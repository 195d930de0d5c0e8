"""Recipes: schema validation with errors that name the key (numpy integers accepted wherever a Python int is, with
the one integer check training runs share; the documented ranges are the enforced ones), deterministic per-run
sampling, sampled skips that are real residual connections; a recipe path starting with '~' is in the home folder
(find_recipe / load_recipe as zoo build), and a missing one is named as it was given."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from metanet.errors import RecipeError
from metanet.zoo import Dist, load_recipe
from metanet.zoo import recipe as recipe_mod
from metanet.zoo import train as train_mod
from metanet.zoo.build import plan

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["tiny", "mnist-mlp", "fashion-mlp", "mnist-cnn", "multitask-mlp", "backdoor-mlp"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_recipes_parse(name):
    path = ROOT / "zoo" / f"{name}.yaml"
    assert path.is_file()
    r = load_recipe(path, check_tasks=False)
    assert r.name == name and r.count >= 1 and r.tasks
    assert load_recipe(r.to_dict(), check_tasks=False).fingerprint() == r.fingerprint()


def test_tiny_resolves_by_name_with_tasks():
    r = load_recipe("tiny")
    assert r.name == "tiny" and set(r.tasks) == {"digits", "mnist"}
    units = plan(r)
    assert sum(u.nets for u in units) == r.count * len(r.checkpoints)


def test_backdoor_and_multitask_recipes_are_what_the_issue_asks():
    bd = load_recipe(ROOT / "zoo" / "backdoor-mlp.yaml", check_tasks=False)
    assert bd.backdoor is not None and 0 < bd.backdoor["fraction"] < 1
    assert set(bd.tasks) == {"mnist", "fashion-mnist"}
    mt = load_recipe(ROOT / "zoo" / "multitask-mlp.yaml", check_tasks=False)
    names = " ".join(mt.tasks)
    for part in ("[", "+permute(", "+relabel(", "fashion-mnist", "mnist"):
        assert part in names
    assert len(mt.tasks) >= 20


@pytest.mark.parametrize(
    "patch, key",
    [
        ({"colour": 1}, "colour"),
        ({"arch": {"family": "mlp", "widht": 3}}, "widht"),
        ({"train": {"lr": -1.0}}, "train.lr"),
        ({"train": {"lr": {"log_uniform": [0.0, 0.1]}}}, "train.lr"),
        ({"train": {"lr": {"uniform": [0.1, 0.01]}}}, "train.lr"),
        ({"train": {"lr": {"gaussian": [0, 1]}}}, "train.lr"),
        ({"train": {"dropout": 1.0}}, "train.dropout"),
        ({"train": {"label_noise": [0.0, 1.5]}}, "train.label_noise"),
        ({"train": {"batch_size": {"uniform": [16, 64]}}}, "train.batch_size"),
        ({"train": {"optimizer": "rmsprop"}}, "train.optimizer"),
        ({"train": {"epochs": 0}}, "train.epochs"),
        ({"arch": {"activation": "swish"}}, "arch.activation"),
        ({"arch": {"family": "transformer"}}, "arch.family"),
        ({"arch": {"depth": 0}}, "arch.depth"),
        ({"count": 0}, "count"),
        ({"checkpoints": [1, 1]}, "checkpoints"),
        ({"checkpoints": [-1]}, "checkpoints"),
        ({"tasks": ["digits", "no-such-task"]}, "tasks[1]"),
        ({"backdoor": {"fraction": 2}}, "backdoor.fraction"),
        ({"backdoor": {"size": 9}}, "backdoor.size"),
        ({"backdoor": {"target": 12}}, "backdoor.target"),
        ({"backdoor": {"kind": "star"}}, "backdoor.kind"),
        ({"backdoor": {"triger": 1}}, "triger"),
        ({"eval": {"train_examples": 0}}, "eval.train_examples"),
    ],
)
def test_bad_recipes_name_the_key(small_recipe, patch, key):
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(small_recipe.get(k), dict):
            small_recipe[k] = {**small_recipe[k], **v}
        else:
            small_recipe[k] = v
    with pytest.raises(RecipeError) as e:
        load_recipe(small_recipe)
    assert key in str(e.value)


def test_missing_required_key(small_recipe):
    del small_recipe["count"]
    with pytest.raises(RecipeError, match="count"):
        load_recipe(small_recipe)


def test_cnn_on_non_image_task_is_an_error(small_recipe):
    small_recipe["tasks"] = ["mnist1d"]
    small_recipe["arch"] = {"family": "cnn"}
    with pytest.raises(RecipeError, match="tasks\\[0\\]"):
        load_recipe(small_recipe)


def test_yaml_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("count: [1\n")
    with pytest.raises(RecipeError, match="YAML") as e:
        load_recipe(bad)
    # one line (the CLI prints it as its one error line): YAML's own message spans four, with a caret
    assert "\n" not in str(e.value) and "expected ',' or ']', but got '<stream end>'" in str(e.value)
    with pytest.raises(RecipeError, match="not found"):
        load_recipe(tmp_path / "missing.yaml")
    ok = tmp_path / "mine.yaml"
    ok.write_text(yaml.safe_dump({"count": 2, "tasks": ["digits"], "unknown_key": 1}))
    with pytest.raises(RecipeError, match="unknown_key") as e:
        load_recipe(ok)
    assert "mine.yaml" in str(e.value) and "valid keys" in str(e.value)


def test_dist_sampling_ranges():
    import numpy as np

    rng = np.random.default_rng(0)
    lu = Dist.parse("x", {"log_uniform": [1e-4, 1e-2]})
    vals = [lu.sample(rng) for _ in range(200)]
    assert all(1e-4 <= v <= 1e-2 for v in vals)
    iv = Dist.parse("x", {"int": [2, 4]})
    assert {iv.sample(rng) for _ in range(100)} == {2, 3, 4}
    assert Dist.parse("x", 5).sample(rng) == 5
    assert Dist.parse("x", ["a", "b"]).sample(rng) in ("a", "b")


def test_runs_depend_only_on_seed_and_index(small_recipe):
    r = load_recipe(small_recipe)
    full = r.runs()
    part = r.runs(limit=3)
    assert [x.to_dict() for x in part] == [x.to_dict() for x in full[:3]]
    assert [x.to_dict() for x in load_recipe(small_recipe).runs()] == [x.to_dict() for x in full]
    ids = [i for x in full for i in x.ids]
    assert ids == list(range(len(ids)))  # consecutive, unique
    small_recipe["seed"] = 8
    other = load_recipe(small_recipe).runs()
    assert [x.seed for x in other] != [x.seed for x in full]
    for run in full:
        assert run.checkpoints == [0, 1, 2] and run.hparams["n_train"] == 600
        assert 1e-3 <= run.hparams["lr"] <= 3e-2


def test_backdoor_sampling(small_recipe):
    small_recipe["backdoor"] = {"fraction": 0.5, "poison_rate": {"uniform": [0.05, 0.1]},
                                "kind": ["square", "checker", "random"], "size": [2, 3], "location": ["corner", "random"]}
    small_recipe["count"] = 40
    runs = load_recipe(small_recipe).runs()
    poisoned = [r for r in runs if r.backdoor]
    assert 5 < len(poisoned) < 35
    for r in poisoned:
        b = r.backdoor
        assert b["kind"] in ("square", "checker", "random") and b["size"] in (2, 3)
        assert 0 <= b["target"] < 10 and 0.05 <= b["poison_rate"] <= 0.1
        row, col = b["location"]
        assert 0 <= row <= 8 - b["size"] and 0 <= col <= 8 - b["size"]
        assert len(b["pattern"]) == b["size"]


@pytest.mark.parametrize("epochs", [2, [1, 2], {"int": [1, 2]}])
def test_checkpoint_no_run_reaches_is_an_error(small_recipe, epochs):
    """Was silently dropped: checkpoints [0, 1, 5] with epochs <= 2 stored no epoch-5 network and said nothing."""
    small_recipe["train"]["epochs"] = epochs
    small_recipe["checkpoints"] = [0, 1, 5]
    with pytest.raises(RecipeError, match="'checkpoints'") as e:
        load_recipe(small_recipe)
    assert "5" in str(e.value) and "train.epochs" in str(e.value)
    small_recipe["train"]["epochs"] = {"int": [1, 5]}  # some runs reach epoch 5: valid
    assert load_recipe(small_recipe).checkpoints == [0, 1, 5]


@pytest.mark.parametrize("dist", [{"uniform": [0, 3]}, {"log_uniform": [1, 3]}])
def test_backdoor_target_takes_integers(small_recipe, dist):
    """Was accepted: a float target was drawn and truncated, so uniform [0, 3] made class 3 (almost) never a target."""
    small_recipe["backdoor"] = {"target": dist}
    with pytest.raises(RecipeError, match="backdoor.target"):
        load_recipe(small_recipe)


def test_yaml_exponent_floats_are_numbers(tmp_path):
    """YAML 1.1 reads ``3e-4`` (no dot) as a string: ``lr: 3e-4`` was refused as "value '3e-4' is invalid"."""
    p = tmp_path / "exp.yaml"
    p.write_text("count: 2\ntasks: [digits]\ntrain:\n  lr: 3e-4\n  weight_decay: [0, 1E-4]\n"
                 "  init_scale: {uniform: [5e-1, 1.5]}\n")
    r = load_recipe(p)
    assert r.train["lr"].args == (3e-4,) and r.train["weight_decay"].args == (0, 1e-4)
    assert r.train["init_scale"].args == (0.5, 1.5)
    assert yaml.safe_load(yaml.safe_dump(r.to_dict()))["train"]["lr"] == 3e-4


def test_yaml_duplicate_keys_are_an_error(tmp_path):
    """Was silent: the last of two ``count:`` lines won."""
    p = tmp_path / "dup.yaml"
    p.write_text("count: 2\ntasks: [digits]\ntrain:\n  lr: 0.1\n  lr: 0.01\n")
    with pytest.raises(RecipeError, match="duplicate key 'lr'") as e:
        load_recipe(p)
    assert "dup.yaml" in str(e.value) and "line 5" in str(e.value)
    p.write_text("count: 2\ntasks: [digits]\ncount: 3\n")
    with pytest.raises(RecipeError, match="duplicate key 'count'"):
        load_recipe(p)


def test_backdoor_target_random_in_a_list_says_how(small_recipe):
    """Said "value 'random' is invalid; valid: 'random' or class indices >= 0" for ``target: [0, random]``."""
    small_recipe["backdoor"] = {"target": [0, "random"]}
    with pytest.raises(RecipeError, match="backdoor.target") as e:
        load_recipe(small_recipe)
    assert "'random' alone" in str(e.value)


def test_a_bare_name_finds_the_recipes_shipped_in_the_package(tmp_path, monkeypatch):
    """A non-editable install has no zoo/ folder beside the package, only metanet/recipes/: `build("tiny")` and
    `metanet zoo build tiny` failed there with 'recipe not found'."""
    import shutil

    import metanet.zoo.recipe as recipe_mod

    site = tmp_path / "site-packages" / "metanet"
    (site / "zoo").mkdir(parents=True)
    (site / "recipes").mkdir()
    shipped = Path(recipe_mod.__file__).resolve().parents[1] / "recipes" / "tiny.yaml"
    shutil.copy(shipped, site / "recipes" / "tiny.yaml")
    monkeypatch.setattr(recipe_mod, "__file__", str(site / "zoo" / "recipe.py"))
    monkeypatch.chdir(tmp_path)  # no ./zoo here
    assert recipe_mod.find_recipe("tiny") == site / "recipes" / "tiny.yaml"
    with pytest.raises(RecipeError, match=r"recipe 'nope' not found: .*\(tiny\)"):
        recipe_mod.find_recipe("nope")


@pytest.mark.parametrize("name", SHIPPED)
def test_every_recipe_ships_in_the_package(name):
    """metanet/recipes/ holds a byte-identical copy of every zoo/*.yaml: from a wheel only the bare name
    `mnist-mlp` (which the CLI help and train/reader.yaml's zoos rely on) failed with 'recipe not found'."""
    import metanet.zoo.recipe as recipe_mod

    copy = Path(recipe_mod.__file__).resolve().parents[1] / "recipes" / f"{name}.yaml"
    assert copy.is_file(), f"copy zoo/{name}.yaml to metanet/recipes/ (package data)"
    assert copy.read_bytes() == (ROOT / "zoo" / f"{name}.yaml").read_bytes(), \
        f"metanet/recipes/{name}.yaml differs from zoo/{name}.yaml: copy it again"


def test_package_recipes_are_the_repository_recipes():
    import metanet.zoo.recipe as recipe_mod

    shipped = {p.name for p in (Path(recipe_mod.__file__).resolve().parents[1] / "recipes").glob("*.yaml")}
    assert shipped == {p.name for p in (ROOT / "zoo").glob("*.yaml")} == {f"{n}.yaml" for n in SHIPPED}


def test_a_checkout_path_outside_a_checkout_names_the_bare_name(tmp_path, monkeypatch):
    """`metanet zoo build zoo/tiny.yaml` (the README's command) from an installed package in another folder said
    only "name of one in zoo/ (tiny)": it now says the recipe ships inside the package under its bare name."""
    import metanet.zoo.recipe as recipe_mod

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(recipe_mod, "_recipe_dirs",
                        lambda: [tmp_path / "zoo", Path(recipe_mod.__file__).resolve().parents[1] / "recipes"])
    with pytest.raises(RecipeError, match=r"give the bare name 'tiny'") as e:
        recipe_mod.find_recipe("zoo/tiny.yaml")
    assert "folder of the metanet repository" in str(e.value)
    with pytest.raises(RecipeError) as e:
        recipe_mod.find_recipe("zoo/nope.yaml")
    assert "bare name" not in str(e.value)
    assert recipe_mod.find_recipe("mnist-mlp").name == "mnist-mlp.yaml"
    with pytest.raises(RecipeError, match=r"recipe 'elsewhere/tiny.yaml' not found: .*; 'tiny' also ships") as e:
        recipe_mod.find_recipe("elsewhere/tiny.yaml")
    assert "folder of the metanet repository" not in str(e.value)


# --- one integer check for recipes and training runs ------------------------------------------------------------
def test_recipes_and_runs_share_one_integer_check():
    assert train_mod._is_int is recipe_mod._is_int
    for good in (3, np.int64(3), np.int32(3), np.uint8(3)):
        assert recipe_mod._is_int(good)
    for bad in (True, np.bool_(True), 3.0, np.float64(3), "3", None, torch.tensor(3)):
        assert not recipe_mod._is_int(bad), bad


def test_numpy_integers_from_a_python_recipe_are_plain_ints(small_recipe):
    """Numpy integers are accepted wherever a Python int is (the same recipe, fingerprint and runs); bools are not."""
    r = copy.deepcopy(small_recipe)
    r.update(seed=np.int64(7), count=np.int32(8), population=np.int64(3), checkpoints=[np.int64(0), 1, np.uint8(2)])
    r["arch"]["width"] = np.int64(16)
    r["train"].update(batch_size=np.int64(64), epochs=np.int32(2), train_examples=np.int64(600))
    a, b = load_recipe(r), load_recipe(small_recipe)
    assert a.fingerprint() == b.fingerprint()
    assert [x.to_dict() for x in a.runs(3)] == [x.to_dict() for x in b.runs(3)]
    assert a.sample_run(np.int64(2)).to_dict() == a.sample_run(2).to_dict()
    with pytest.raises(RecipeError, match="out of range"):
        a.sample_run(True)
    for key, sect in (("epochs", "train"), ("batch_size", "train"), ("depth", "arch")):
        bad = copy.deepcopy(small_recipe)
        bad[sect][key] = True
        with pytest.raises(RecipeError, match=f"{sect}.{key}"):
            load_recipe(bad)


_INFO = {"digits": ((1, 8, 8), 10, 1000)}


def test_sampled_skips_claim_only_real_residual_connections():
    # same_width false with widths [4, 8, 16]: runs whose hidden layers all differ have no residual connection,
    # yet hparams['skips'] (and the arch string's ':skip') said they had one
    r = load_recipe({"count": 300, "tasks": ["digits"], "arch": {"depth": 2, "width": [4, 8, 16], "same_width": False,
                                                                  "skip": 1.0}}, check_tasks=False)
    runs = r.runs(task_info=lambda t: _INFO[t])
    for run in runs:
        real = bool(run.arch.skip_layers())
        assert run.arch.skips == real == run.hparams["skips"], str(run.arch)
    assert {run.arch.skips for run in runs} == {True, False}  # equal pairs keep their skip


def test_recipe_docstring_states_the_ranges_validation_enforces():
    doc = recipe_mod.__doc__
    line = lambda key: next(s for s in doc.splitlines() if s.strip().startswith(f"{key}:"))  # noqa: E731
    assert "[0, 1]" in line("weight_decay") and "1..10000" in line("epochs") and "(0, 100]" in line("init_scale")
    assert "(0, 10]" in line("lr")
    base = {"count": 1, "tasks": ["digits"]}
    load_recipe({**base, "train": {"weight_decay": 1.0, "epochs": 10000, "init_scale": 100, "lr": 10}}, check_tasks=False)
    for key, bad in (("weight_decay", 1.5), ("epochs", 10001), ("init_scale", 101), ("lr", 11)):
        with pytest.raises(RecipeError, match=f"train.{key}"):
            load_recipe({**base, "train": {key: bad}}, check_tasks=False)


def test_recipe_paths_expand_the_home_folder(tmp_path, monkeypatch):
    """find_recipe / load_recipe('~/r.yaml') were "recipe '~/r.yaml' not found" (only zoo build expanded '~')."""
    from metanet.zoo.recipe import find_recipe, load_recipe

    home = tmp_path / "my home"
    home.mkdir()
    shutil.copy(ROOT / "zoo" / "tiny.yaml", home / "r.yaml")
    monkeypatch.setenv("HOME", str(home))
    assert find_recipe("~/r.yaml") == home / "r.yaml"
    assert find_recipe(Path("~") / "r.yaml") == home / "r.yaml"
    assert load_recipe("~/r.yaml", check_tasks=False).to_dict() == load_recipe("tiny", check_tasks=False).to_dict()


def test_recipe_not_found_with_home_names_what_was_given(tmp_path, monkeypatch):
    from metanet.errors import RecipeError
    from metanet.zoo.recipe import load_recipe

    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(RecipeError, match=r"recipe '~/missing.yaml' not found"):
        load_recipe("~/missing.yaml", check_tasks=False)
