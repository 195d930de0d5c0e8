"""Reproducibility where :mod:`tests.test_determinism` and :mod:`tests.test_determinism_rngs` do not look: fresh
processes that import torch_geometric and Lightning before metanet and run from another working directory (a
relative ``--out``), the verification loop's ``metanet train fit``, a filtered ``Zoo.dataset`` split and the CLI's
saved network; in one process, ``generate`` after other metanet calls, and the caller's numpy and Python ``random``
streams (the torch one is checked there) left as they were; and sets of work (a batch of networks verified at once,
``candidates=K`` against ``candidates=8``) agreeing with their members as the docstrings promise.
"""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest
import torch
from process_helpers import DIGEST, ROOT, run_workers

# ``python -c WORKER OUT ROOT`` in W_CWD: {case: digest}. W_FIRST imports modules before torch and metanet; W_CONSUME draws from
# every global generator first
WORKER = r'''
import hashlib, json, os, sys
os.chdir(os.environ["W_CWD"])  # run_workers gives every process the same one
for name in filter(None, os.environ.get("W_FIRST", "").split(",")):
    __import__(name)
import random
import numpy as np
import torch
torch.set_num_threads(1)  # the promise is per thread count
if os.environ.get("W_CONSUME"):
    torch.rand(100); np.random.rand(10); random.random()
import metanet
from metanet.cli import main
from metanet.nets import build

''' + DIGEST + r'''
g = metanet.generate("digits", seed=3)  # the defaults: 8 candidates, every training example
out = {"generate": digest(g.model, g.candidates, g.report),
       "read with its trigger scan": digest(metanet.read(build("mlp:784-32-10:relu", seed=3)))}
z = metanet.Zoo(os.environ["METANET_TINY_ZOO"])
out["Zoo.dataset filtered"] = [[int(d.zoo_id) for d in z.dataset(split=s, seed=5, task="digits", final=True)]
                               for s in ("train", "val", "test")]
# the CLI into a relative path: the working directory differs between the processes
assert main(["generate", "digits", "--seed", "3", "--candidates", "2", "--out", "g.safetensors"]) == 0
out["metanet generate --out"] = hashlib.sha256(open("g.safetensors", "rb").read()).hexdigest()
assert main(["train", "fit", "-c", os.path.join(sys.argv[2], "train", "loop.yaml"), "--trainer.max_steps=2",
             "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false", "--trainer.logger=false",
             "--trainer.default_root_dir=fit", "--model.init_args.export=loop.safetensors",
             "--model.init_args.writer=null", "--model.init_args.hidden=8", "--model.init_args.message=4",
             "--model.init_args.candidates=2", "--data.init_args.bases=[digits]", "--data.init_args.tasks_per_round=1",
             "--data.init_args.rounds_per_epoch=2", "--data.init_args.heldout_tasks=1",
             "--data.init_args.shots_max=10", "--data.init_args.query=10"]) == 0
out["metanet train fit (loop)"] = hashlib.sha256(open("loop.safetensors", "rb").read()).hexdigest()
open(sys.argv[1], "w").write(json.dumps(out))
'''

CASES = ["generate", "read with its trigger scan", "Zoo.dataset filtered", "metanet generate --out",
         "metanet train fit (loop)"]


@pytest.fixture(scope="module")
def runs(tiny_zoo, tmp_path_factory):
    """Two fresh processes at once, each in a working directory of its own: hash seed 1, metanet imported first;
    hash seed 2, torch_geometric and Lightning imported first and every global RNG drawn from."""
    tmp = tmp_path_factory.mktemp("reproducibility")
    jobs = []
    for name, env in (("plain", {"PYTHONHASHSEED": "1", "W_FIRST": "", "W_CONSUME": ""}),
                      ("other", {"PYTHONHASHSEED": "2", "W_FIRST": "torch_geometric,lightning.pytorch",
                                 "W_CONSUME": "1"})):
        (tmp / name).mkdir()
        jobs.append((name, {**env, "W_CWD": str(tmp / name)}, [str(ROOT)]))
    return run_workers(WORKER, jobs, tmp, tiny_zoo)


@pytest.mark.parametrize("case", CASES)
def test_the_same_seed_gives_the_same_result_whatever_was_imported_first_and_wherever_it_runs(runs, case):
    plain, other = runs
    assert plain[case] == other[case], f"{case}: another import order, working directory and hash seed differed"


def test_the_filtered_split_has_networks(runs):
    train, val, test = runs[0]["Zoo.dataset filtered"]
    assert train and val and test and not set(train) & set(val) | set(train) & set(test)


# --- one process: call order and the caller's numpy / random streams ---------------------------------------------

def _net(arch: str = "mlp:64-16-10:relu", seed: int = 3) -> torch.nn.Module:
    from metanet.nets import build

    return build(arch, seed=seed)


def _weights(m: torch.nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in m.state_dict().values()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def _calls(tmp, zoo) -> dict:
    import metanet
    import metanet.edit as E
    from metanet import tasks
    from metanet.loop import split_examples
    from metanet.reader.lightning import ReaderDataModule
    from metanet.writer import Writer

    x, y = tasks.get("digits").split("train")
    x, y = x[:200], y[:200]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        writer = Writer(hidden=8, message=4, start_mix=1.0)
    lts = [split_examples(x, y, "mlp:64-16-10:relu", shots=5, val=10, test=10, seed=i) for i in range(2)]
    recipe = dict(name="r", seed=0, count=2, population=2, tasks=["digits"], checkpoints=[0, 1],
                  arch=dict(family="mlp", depth=[1], width=[8], activation=["relu"]),
                  train=dict(optimizer=["adam"], lr=1e-2, batch_size=32, epochs=1, train_examples=100))
    return {
        "generate mnist": lambda: metanet.generate("mnist", seed=1, candidates=2, shots=10),
        "generate mnist1d": lambda: metanet.generate("mnist1d", seed=1, candidates=2, shots=10),
        "generate sentence": lambda: metanet.generate("a network that reads digits 3 and 7", candidates=2),
        "read": lambda: metanet.read(_net()),
        "verify": lambda: metanet.verify(_net(), "digits"),
        "inspect": lambda: metanet.inspect(_net(), "digits"),
        "refine": lambda: metanet.refine(_net(), (x, y), steps=2, population=2, seed=5),
        "refine sgd": lambda: metanet.refine(_net(), (x, y), method="sgd", steps=2, seed=5),
        "improve": lambda: metanet.improve(copy.deepcopy(writer), lts, rounds=1, candidates=2, seed=0, track=False),
        "prune": lambda: E.prune(_net(), 0.5, "digits"),
        "repair blind": lambda: E.repair_backdoor(_net(), "digits", blind=True, seed=1, max_rounds=1),
        "reconstruct_trigger": lambda: E.reconstruct_trigger(_net(), x, 10, steps=5, seed=1),
        "from_examples": lambda: tasks.from_examples(x, y, seed=1),
        "zoo build": lambda: metanet.zoo.build(recipe, tmp / "zoo", progress=False),
        "Zoo.load": lambda: metanet.Zoo(zoo).load(metanet.Zoo(zoo).select(task="digits")[0].id),
        "Zoo.dataset": lambda: list(metanet.Zoo(zoo).dataset(split="train", seed=2)),
        "ReaderDataModule": lambda: ReaderDataModule(zoos=[str(zoo)], max_nets=8, role_examples=8).setup("fit"),
        "save and load": lambda: metanet.load(metanet.save(_net(), tmp / "n.safetensors")),
    }


CALLS = ["generate mnist", "generate mnist1d", "generate sentence", "read", "verify", "inspect", "refine",
         "refine sgd", "improve", "prune", "repair blind", "reconstruct_trigger", "from_examples", "zoo build",
         "Zoo.load", "Zoo.dataset", "ReaderDataModule", "save and load"]


def _generate() -> list[torch.Tensor]:
    import metanet

    return _weights(metanet.generate("digits", seed=3, candidates=4, shots=30).model)


@pytest.fixture
def fresh_data(monkeypatch):
    """A process that has loaded no data set yet: mnist1d's generator reseeds numpy's and Python's global ones."""
    import metanet.checkpoints
    from metanet.tasks import registry, sources

    monkeypatch.setattr(sources, "_CACHE", {})
    monkeypatch.setattr(registry, "_TASKS", type(registry._TASKS)())
    monkeypatch.setattr(metanet.checkpoints, "_SHIPPED", {})  # the shipped reader and writer not loaded yet


@pytest.mark.parametrize("case", CALLS)
def test_a_call_leaves_numpy_and_pythons_random_streams_as_they_were(case, fresh_data, tmp_path, tiny_zoo):
    # tests/test_determinism checks torch's generator; a caller's numpy / random draws must not move either
    call = _calls(tmp_path, tiny_zoo)[case]
    np.random.seed(11)
    random.seed(11)
    before = np.random.get_state(), random.getstate()
    call()
    after = np.random.get_state(), random.getstate()
    assert np.array_equal(after[0][1], before[0][1]) and after[0][2:] == before[0][2:], f"{case} moved numpy's"
    assert after[1] == before[1], f"{case} moved Python's random"


def test_generate_gives_the_same_network_whatever_ran_before(tmp_path, tiny_zoo):
    want = _generate()
    for case, call in _calls(tmp_path, tiny_zoo).items():
        call()
        assert _same(_generate(), want), f"generate gave another network after {case}"
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    assert _same(_generate(), want), "generate gave another network after the caller seeded the global RNGs"


# --- sets of work ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch,task", [("mlp:64-16-10:relu", "digits"), ("mlp:64-16-16-10:tanh", "digits"),
                                       ("cnn:1-8-8-10:tanh:k3:s2", "mnist")])
def test_a_batch_of_networks_is_verified_as_each_alone(arch, task):
    import metanet

    nets = [_net(arch, s) for s in range(3)]
    together = metanet.verify(nets, task)
    for net, got in zip(nets, together):
        alone = metanet.verify(net, task)
        assert (got.accuracy, got.loss, got.per_class, got.n) == (alone.accuracy, alone.loss, alone.per_class,
                                                                  alone.n)


@pytest.mark.parametrize("arch", ["mlp:64-32-10:relu", "cnn:1-8-10:relu:k3:s1"])
def test_one_hidden_layer_candidates_depend_on_their_count_only_in_the_last_bits(arch):
    # generate's docstring: "for an MLP or a CNN with one hidden layer only in the last bits"
    import metanet

    four = metanet.generate("digits", arch=arch, seed=3, candidates=4, shots=20)
    eight = metanet.generate("digits", arch=arch, seed=3, candidates=8, shots=20)
    for a, b in zip(four.candidates, eight.candidates[:4]):
        for x, y in zip(_weights(a), _weights(b)):
            torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-4)
