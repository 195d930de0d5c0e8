"""metanet's API under more of the torch global state a caller may have set: a float64 default dtype when reading a
zoo, deterministic algorithms, anomaly detection. Each call gives what it gives under torch's defaults, in the dtype
the networks are stored in, and leaves the caller's state as it was. :mod:`tests.test_caller_state` and
:mod:`tests.test_determinism` cover the default device, inference mode, matmul precision, grad mode and threads."""

from __future__ import annotations

import contextlib
import copy

import pytest
import torch

import metanet
from metanet.nets import build
from metanet.zoo import Zoo

RECIPE = dict(name="s", seed=0, count=2, population=2, tasks=["digits"], checkpoints=[0, 1],
              arch=dict(family="mlp", depth=[1], width=[8], activation=["relu"]),
              train=dict(optimizer=["adam"], lr=1e-2, batch_size=32, epochs=1, train_examples=100))


@pytest.fixture(scope="module")
def zoo(tmp_path_factory) -> Zoo:
    """Four networks (two runs, two checkpoints each), built once for the module."""
    out = tmp_path_factory.mktemp("zoo32") / "zoo"
    metanet.zoo.build(copy.deepcopy(RECIPE), out, progress=False)
    with Zoo(out) as z:
        yield z


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype):
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a)


def _views(z: Zoo) -> dict:
    """What each of the zoo's ways of giving a network gives, as {name: tensors} (dtype included)."""
    ids = [n.id for n in z]
    module, params = z.stacked(ids)
    return {
        "load": z.load(ids[0]).state_dict(),
        "graph": {"x": z.graph(ids[0]).x, "edge_attr": z.graph(ids[0]).edge_attr},
        "dataset": {"x": z.dataset(split="train")[0].x},
        "graphs": {"x": z.graphs(ids).x},
        "stacked module": module.state_dict(),
        "stacked params": params,
    }


def test_a_float64_default_gives_the_zoos_float32_networks_and_graphs(zoo):
    # Zoo.load built its module in the caller's default dtype and copied the stored float32 weights into it: under
    # set_default_dtype(float64) it gave a float64 network, so graph() and dataset() gave float64 graphs (a float32
    # reader fed them fails), while graphs() gave float32 ones and stacked() a float64 module beside float32 params
    want = _views(zoo)
    with _default_dtype(torch.float64):
        got = _views(zoo)
        assert torch.get_default_dtype() == torch.float64
    for name in want:
        assert _same(got[name], want[name]), name
    assert all(t.dtype == torch.float32 for t in want["load"].values())


def test_the_zoos_tensors_are_the_callers_own(zoo):
    # the open shard hands every read the same memory: a tensor of state_dict() changed in place changed every later
    # state_dict(), load() and graph() of the zoo
    i = next(iter(zoo)).id
    want = {k: v.clone() for k, v in zoo.state_dict(i).items()}
    mine = zoo.state_dict(i)
    net = zoo.load(i)
    with torch.no_grad():
        for t in mine.values():
            t.add_(1.0)
        for p in net.parameters():
            p.mul_(2.0)
    assert _same(zoo.state_dict(i), want)
    assert _same(zoo.load(i).state_dict(), want)
    module, params = zoo.stacked([i])
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
    assert _same({k: v[0] for k, v in params.items()}, want)  # the module's weights are not the params' memory


# --- settings with no metanet-specific handling: checked to change nothing ---------------------------------------

def _net() -> torch.nn.Module:
    return build("mlp:64-16-10:relu", seed=3)


def _tensors(m: torch.nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in m.state_dict().values()]


def _calls() -> dict:
    return {
        "verify": lambda: metanet.verify(_net(), "digits").per_class,
        "read": lambda: sorted((k, repr(v)) for k, v in metanet.read(_net(), scan=False).items()),
        "prune": lambda: _tensors(metanet.edit.prune(_net(), 0.5, "digits").model),
        "refine sgd": lambda: _tensors(metanet.refine(_net(), "digits", steps=2, method="sgd").model),
        "refine perturbation": lambda: _tensors(metanet.refine(_net(), "digits", steps=2, population=2).model),
        "graph": lambda: _tensors(metanet.from_graph(metanet.to_graph(_net()))),
    }


def _equal(a, b) -> bool:
    if isinstance(a, list) and a and isinstance(a[0], torch.Tensor):
        return len(a) == len(b) and all(x.dtype == y.dtype and torch.equal(x, y) for x, y in zip(a, b))
    return a == b


@contextlib.contextmanager
def _deterministic():
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(False)


def _state() -> tuple:
    return (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads(),
            torch.are_deterministic_algorithms_enabled(), torch.is_anomaly_enabled(), torch.random.get_rng_state())


@pytest.mark.parametrize("setting", [_deterministic, lambda: torch.autograd.set_detect_anomaly(True)],
                         ids=["use_deterministic_algorithms", "detect_anomaly"])
def test_deterministic_algorithms_and_anomaly_detection_change_no_result(setting):
    # metanet computes on the cpu, where torch has no nondeterministic kernel to refuse, and anomaly detection only
    # checks the backward passes of refine(method="sgd"): both give the default results and stay as the caller set
    want = {k: c() for k, c in _calls().items()}
    for name, call in _calls().items():
        with setting():
            before = _state()
            got = call()
            after = _state()
        assert _equal(got, want[name]), name
        assert before[:-1] == after[:-1] and torch.equal(before[-1], after[-1]), name


def test_improve_a_writer_copied_inside_inference_mode_is_a_clear_error():
    # a Writer built there leaves inference mode for its parameters (tests/test_inference_mode.py); a copy made
    # there does not: its parameters are inference tensors, which autograd cannot train: every task of every round was skipped
    # ('round skipped (RuntimeError: Inference tensors cannot be saved for backward)') and the writer came back
    # unchanged, as if trained. A writer made outside and improved inside inference mode is trained
    # (tests/test_caller_state.py)
    from metanet.loop import split_examples
    from metanet.writer import Writer

    x, y = metanet.tasks.get("digits").split("train")
    lts = [split_examples(x, y, "mlp:64-16-10:relu", shots=5, val=10, test=10, seed=0)]
    with torch.inference_mode():
        writer = copy.deepcopy(Writer(hidden=8, message=4, start_mix=1.0))
    with pytest.raises(metanet.ConfigError, match=r"inference tensor.*outside inference mode"):
        metanet.improve(writer, lts, rounds=1, candidates=2, seed=0, track=False)
