"""The writer's training side on awkward inputs: episodes, the episode data module, zoo teachers, solvers."""

from __future__ import annotations

import pickle

import pytest
import torch

from metanet.errors import ConfigError, TaskError, ZooError
from metanet.writer import solvers as S
from metanet.writer.episodes import EpisodeSampler, make_episode
from metanet.writer.lightning import EpisodeDataModule, WriterModule


# --- episodes ---------------------------------------------------------------------------------------------------
def _toy():
    x = torch.arange(20, dtype=torch.float32).view(10, 2)
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 2, 3])
    return x, y


def test_make_episode_relabels_and_keeps_support_and_query_disjoint():
    x, y = _toy()
    (sx, sy), (qx, qy), spec = make_episode(x, y, [1, 0], 2, 5, torch.Generator().manual_seed(0), name="toy")
    assert spec == "toy[1,0]" and sy.tolist() == [0, 0, 1, 1] and qy.tolist() == [0, 0, 1, 1]
    rows = lambda t: {tuple(r) for r in t.tolist()}  # noqa: E731
    assert not rows(sx) & rows(qx)
    # relabelled: new label 0 is old class 1
    old = {tuple(r): int(c) for r, c in zip(x.tolist(), y)}
    assert {old[r] for r in rows(sx[sy == 0])} == {1}


@pytest.mark.parametrize("classes, match", [
    ([0, 0], "distinct classes"),  # used to put the same images in the support of one label and the query of another
    ([], "distinct classes"),  # used to be torch.cat's "expected a non-empty list of Tensors"
    ([0, 2], r"at least 2 examples .*\{2: 1\}"),  # class 2 used to be missing from the support
    ([0, 7], r"at least 2 examples .*\{7: 0\}"),  # an absent class used to give an episode without it
])
def test_make_episode_refuses_classes_it_cannot_split(classes, match):
    x, y = _toy()
    with pytest.raises(TaskError, match=match):
        make_episode(x, y, classes, 2, 5, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("shots", [5, (1, 2, 3), "10"])
def test_episode_shots_must_be_a_pair(shots):
    with pytest.raises(ConfigError, match="episode shots must be a pair"):
        EpisodeSampler(("digits",), shots=shots)


@pytest.mark.parametrize("seed", [0.5, "0", True])
def test_episode_seed_must_be_an_integer(seed):
    with pytest.raises(ConfigError, match="episode seed must be an integer"):
        EpisodeSampler(("digits",), seed=seed)


def test_large_seeds_give_episodes_and_small_ones_are_unchanged():
    # seed_everything accepts 2**32 - 1; the data module's seed * 7919 * 1_000_003 overflowed torch's manual_seed
    kw = dict(shots=(5, 5), query=2, p_permute=0.0, p_invert=0.0)
    big = EpisodeSampler(("digits",), seed=(2**32 - 1) * 7919, **kw)
    assert big.episode(0).support[0].shape[0] >= 10
    e = EpisodeSampler(("digits",), seed=-3, **kw).episode(1)  # negative seeds: the episode they always gave
    assert (e.name, float(e.support[0].sum()), str(e.arch)) == ("digits[2,9,8,3]", 400.0, "mlp:64-128-4:sigmoid")


def test_cnn_prob_one_writes_cnns_only_for_image_data():
    s = EpisodeSampler(("digits", "mnist1d"), shots=(5, 5), query=2, cnn_prob=1.0, p_permute=0.0, seed=1)
    seen = set()
    for i in range(8):
        e = s.episode(i)
        seen.add(e.meta["base"])
        assert e.arch.family == ("cnn" if e.meta["base"] == "digits" else "mlp"), (e.name, e.arch)
        assert e.arch.fits(tuple(e.support[0].shape[1:]))
    assert seen == {"digits", "mnist1d"}


def test_episodes_are_deterministic_and_survive_pickling():
    s = EpisodeSampler(("digits",), shots=(3, 8), query=4, seed=7, length=3)
    a = [s.episode(i) for i in range(3)]
    b = [pickle.loads(pickle.dumps(s)).episode(i) for i in range(3)]
    for e, f in zip(a, b):
        assert e.name == f.name and str(e.arch) == str(f.arch)
        assert all(torch.equal(u, v) for u, v in zip(e.support + e.query, f.support + f.query))
        k = e.arch.num_classes
        assert sorted(e.support[1].unique().tolist()) == list(range(k))
        assert torch.bincount(e.query[1], minlength=k).tolist() == [4] * k


# --- data module ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bases", ["digits", None, ("digits", 3)])
def test_prepare_data_names_bad_bases(bases):
    # Lightning calls prepare_data before setup: "digits" was loaded letter by letter ("unknown data set 'd'"),
    # None was a raw TypeError
    with pytest.raises(ConfigError, match="episode bases must be a list of at least one data set name"):
        EpisodeDataModule(bases=bases).prepare_data()


def test_data_module_seed_must_be_an_integer():
    with pytest.raises(ConfigError, match="writer data seed"):
        EpisodeDataModule(bases=("digits",), seed=0.5).setup("fit")


def test_setup_twice_gives_the_same_fixed_val_episodes():
    d = EpisodeDataModule(bases=("digits",), val_episodes=2, tasks_per_step=1, steps_per_epoch=1)
    d.prepare_data()
    d.setup("fit")
    first = [e.name for e in d.val_dataloader().dataset]
    d.setup("validate")
    assert [e.name for e in d.val_dataloader().dataset] == first and len(first) == 2


# --- teachers --------------------------------------------------------------------------------------------------------
def test_a_zoo_without_teachers_is_a_clear_error_before_training(monkeypatch, tiny_zoo):
    from metanet.zoo import Zoo

    monkeypatch.setattr(Zoo, "select", lambda self, **kw: [])
    m = WriterModule(hidden=8, message=4, zoo=str(tiny_zoo))
    with pytest.raises(ZooError, match="has no teachers"):  # was torch's "random_ expects 'from' < 'to'"
        m.setup("fit")
    with pytest.raises(ZooError, match="has no teachers"):
        m._teacher_episodes(1, 0)


def test_teacher_episodes_distil_towards_the_teacher(tiny_zoo):
    m = WriterModule(hidden=8, message=4, zoo=str(tiny_zoo))
    m.setup("fit")
    (ep, logits), = m._teacher_episodes(1, 0)
    assert logits.shape == (len(ep.query[1]), ep.arch.num_classes) and not logits.requires_grad
    with_t, _ = m._episode_loss(ep, logits)
    without, _ = m._episode_loss(ep)
    assert torch.isfinite(with_t) and with_t > without  # the KL term adds to the query loss
    m.hparams.distill_weight = 0.0
    assert torch.allclose(m._episode_loss(ep, logits)[0], without)


# --- solvers ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def two_threads():
    n = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ridge_on_no_rows_is_the_zero_solution(two_threads, dtype):
    # torch's batched solve is bypassed above one thread; its 0 x 0 systems failed to reshape
    out = S.ridge(torch.randn(2, 0, 5, dtype=dtype), torch.zeros(0, 3), 1.0)
    assert out.shape == (2, 5, 3) and out.dtype == dtype and not out.any()
    lams = torch.tensor([0.1, 1.0], dtype=dtype)
    assert not S.loo_ridge(torch.randn(2, 0, 5, dtype=dtype), torch.zeros(0, 3), lams).any()


@pytest.mark.parametrize("lam", [1e39, float("inf")])
def test_a_huge_lambda_gives_the_near_zero_ridge_solution(lam):
    a = torch.randn(2, 6, 4)
    y = S.targets(torch.arange(6) % 3, 3)
    out = S.ridge(a, y, lam)  # float32: the regulariser overflowed to inf and the solution was NaN
    assert torch.isfinite(out).all() and out.abs().max() < 1e-30
    assert torch.isfinite(S.ridge(a.double(), y, lam)).all()


def test_logistic_with_a_huge_lambda_keeps_its_start_in_float32():
    # documented: "with a large lambda the solution stays the ridge one"; in float32 it became NaN
    a = torch.randn(2, 9, 4)
    y = torch.arange(9) % 3
    w0 = S.ridge(a, S.targets(y, 3), 1.0)
    out = S.logistic(a, y, 3, w0, 1e300)
    assert torch.isfinite(out).all() and torch.allclose(out, w0, atol=1e-6)


def test_loo_ridge_needs_a_lambda_grid_and_subclasses_a_cluster():
    a, y = torch.randn(1, 6, 4), torch.arange(6) % 3
    with pytest.raises(ConfigError, match="at least one lambda"):
        S.loo_ridge(a, S.targets(y, 3), torch.tensor([]))
    with pytest.raises(ConfigError, match="per_class must be a whole number >= 1"):
        S.subclasses(a, y, 3, 0, torch.rand(1, 6))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_solvers_stay_finite_on_degenerate_support_sets(dtype):
    k = 3
    lams = torch.tensor([0.01, 0.1, 1.0], dtype=dtype)
    cases = {
        "one per class": (torch.randn(2, k, 5, dtype=dtype), torch.arange(k)),
        "duplicates": (torch.randn(1, 1, 5, dtype=dtype).expand(2, 6, 5), torch.arange(6) % k),
        "constant": (torch.ones(2, 6, 5, dtype=dtype), torch.arange(6) % k),
        "zeros": (torch.zeros(2, 6, 5, dtype=dtype), torch.arange(6) % k),
        "rank one": (torch.randn(2, 6, 1, dtype=dtype) @ torch.randn(2, 1, 5, dtype=dtype), torch.arange(6) % k),
    }
    for name, (a, y) in cases.items():
        t = S.targets(y, k)
        for out in (S.ridge(a, t, 1e-12), S.ridge(a, t, 1.0), S.loo_ridge(a, t, lams), S.support_stats(a, y, k, 1.0).ridge,
                    S.logistic(a, y, k, S.ridge(a, t, 1.0), 1.0)):
            assert out.dtype == dtype and torch.isfinite(out).all(), name
        labels = S.subclasses(a, y, k, 2, torch.rand(2, a.shape[1]))
        assert ((labels // 2) == y).all(), name
