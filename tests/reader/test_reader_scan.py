"""The reader's trigger scan (`metanet.reader.scan`): its features, its fitted head, and `read` with it; its options
are checked (a ConfigError), not bent into something else."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

import metanet
from metanet.errors import ConfigError, GraphError
from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader, read
from metanet.reader.scan import SCAN_FEATURES, fit_scan, scan_features, scanned_backdoor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inspect"))
from inspect_helpers import backdoored_digits_mlp, digits_mlp  # noqa: E402

#: 2x2 patches of the 8x8 digits, each relabelling to its own target (the backdoor zoo's trigger format)
TRIGGERS = [{"kind": "square", "size": 2, "location": loc, "pattern": [[1, 1], [1, 1]], "target": t,
             "poison_rate": 0.1} for loc, t in (([6, 6], 3), ([0, 0], 7), ([0, 6], 1))]


def _graph(model, backdoor: bool):
    g = to_graph(model)
    g.y_backdoor = torch.tensor([float(backdoor)])
    g.y_log_epoch = torch.tensor([1.0])
    return g


@pytest.fixture(scope="module")
def nets():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    bad = [backdoored_digits_mlp(t) for t in TRIGGERS]
    clean = [digits_mlp("mlp:64-32-10:relu", epochs=40, seed=s) for s in (1, 2, 3)]
    torch.set_num_threads(n)
    return bad, clean


@pytest.fixture()
def scan_reader():
    torch.manual_seed(0)
    return Reader(tasks=["digits", "mnist"], hidden=8, layers=1, data_probes=360, scan_steps=120).fill_data_probes(
        "val").eval()


def test_scan_features_tell_backdoored_from_clean(nets, scan_reader):
    bad, clean = nets
    f = scan_features(scan_reader, Batch.from_data_list([_graph(m, True) for m in bad + clean]))
    assert f.shape == (6, len(SCAN_FEATURES)) and torch.isfinite(f).all()
    mins = f[:, SCAN_FEATURES.index("min_log_l1")]
    assert float(mins[:3].max()) < float(mins[3:].min())  # every trigger is a smaller mask than any clean class


def test_a_network_no_probe_images_fit_gets_nan(scan_reader):
    f = scan_features(scan_reader, to_graph(build("mlp:20-6-3:relu", seed=0)))
    assert f.shape == (1, len(SCAN_FEATURES)) and bool(f.isnan().all())


def test_fit_scan_save_load_and_read(nets, scan_reader, tmp_path):
    bad, clean = nets
    graphs = [_graph(m, True) for m in bad] + [_graph(m, False) for m in clean]
    untrained = _graph(build("mlp:64-32-10:relu", seed=5), True)
    untrained.y_log_epoch = torch.tensor([0.0])  # a backdoored run's epoch-0 checkpoint: an untouched init, clean
    fit = fit_scan(scan_reader, graphs + [untrained])
    assert fit["networks"] == 7 and fit["backdoored"] == 3 and fit["features"] == list(SCAN_FEATURES)
    logits = scanned_backdoor(scan_reader, Batch.from_data_list(graphs + [untrained]))
    assert float(logits[:3].min()) > float(logits[3:].max())
    path = scan_reader.save(tmp_path / "reader.safetensors")
    loaded = Reader.load(path)
    assert loaded.config["scan_steps"] == 120 and bool(loaded.scan_fitted)
    assert torch.equal(loaded.scan_coef, scan_reader.scan_coef)
    out = read(bad[0], reader=loaded)
    assert set(out["trigger_scan"]) == {"reader_only", "steps", *SCAN_FEATURES}
    assert out["backdoor"] == pytest.approx(float(torch.sigmoid(logits[0])), abs=1e-5)
    plain = read(bad[0], reader=loaded, scan=False)
    assert plain["trigger_scan"] is None and plain["backdoor"] == pytest.approx(out["trigger_scan"]["reader_only"])


def test_scan_errors(nets, scan_reader):
    bad, clean = nets
    torch.manual_seed(0)
    plain = Reader(tasks=["digits"], hidden=8, layers=1, data_probes=50).fill_data_probes("val")
    with pytest.raises(GraphError, match="scan_steps"):
        fit_scan(plain, [_graph(bad[0], True), _graph(clean[0], False)])
    with pytest.raises(GraphError, match="not fitted"):
        scanned_backdoor(scan_reader, _graph(bad[0], True))
    with pytest.raises(GraphError, match="no fitted trigger scan"):
        read(bad[0], reader=plain, scan=True)
    with pytest.raises(GraphError, match="each label"):
        fit_scan(scan_reader, [_graph(m, True) for m in bad * 4])
    no_probes = Reader(tasks=["digits"], hidden=8, layers=1)
    with pytest.raises(GraphError, match="data probes"):
        scan_features(no_probes, _graph(bad[0], True))


def test_the_scan_head_changes_nothing_else():
    """The scan head is buffers (fitted, not trained): a reader built with it initialises and reads exactly as one
    without, so the rest of a training run is unchanged."""
    torch.manual_seed(0)
    a = Reader(tasks=["digits"], hidden=8, layers=1)
    torch.manual_seed(0)
    b = Reader(tasks=["digits"], hidden=8, layers=1, scan_steps=50)
    sa, sb = a.state_dict(), b.state_dict()
    assert set(sb) - set(sa) == {"scan_norm", "scan_coef", "scan_bias", "scan_fitted", "scan_inputs"}
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert "scan_steps" not in a.config and b.config["scan_steps"] == 50
    torch.manual_seed(0)
    Reader(tasks=["digits"], hidden=8, layers=1)
    after_a = torch.rand(3)
    torch.manual_seed(0)
    Reader(tasks=["digits"], hidden=8, layers=1, scan_steps=50)
    assert torch.equal(torch.rand(3), after_a)  # no random numbers drawn for the scan head


@pytest.mark.parametrize("arch", ["mlp:784-16-10:relu", "cnn:1-4-8-10:relu:k3:s2"])
def test_networks_run_on_their_own_inputs_as_on_shared_ones(scan_reader, arch):
    """The scan runs every network on its own masked inputs; with the same inputs for all it is the shared run."""
    from metanet.graph import to_batch

    module = build(arch, seed=0)
    params = {k: torch.stack([v, v.flip(0) if v.dim() > 1 else v, 0.5 * v]) for k, v in module.state_dict().items()}
    gr = scan_reader._groups(to_batch(module, params))[0]
    x = torch.rand(5, 784) if arch.startswith("mlp") else torch.rand(5, 1, 28, 28)
    shared = scan_reader._run(gr.lay, gr.params, x)[1]
    own = scan_reader._run(gr.lay, gr.params, x.unsqueeze(0).expand(3, *x.shape))[1]
    assert own.shape == shared.shape == (3, 5, 10)
    assert torch.allclose(own, shared, atol=1e-5)
    f = scan_features(scan_reader, to_batch(module, params), steps=20)
    assert f.shape == (3, len(SCAN_FEATURES)) and torch.isfinite(f).all()


def test_a_task_view_without_probe_images_is_not_scanned():
    """A task whose classes have no probe images in the reader's bank (here mnist[3,8], the bank holding classes
    0-2 only) cannot be scanned: its networks get NaN features instead of a crash."""
    torch.manual_seed(0)
    reader = Reader(tasks=["mnist", "mnist[3,8]"], hidden=8, layers=1, data_probes=3, scan_steps=5)
    reader = reader.fill_data_probes("val").eval()
    assert len(reader._task_views()[1].rows) == 0
    f = scan_features(reader, to_graph(build("mlp:784-6-2:relu", seed=0)))
    assert f.shape == (1, len(SCAN_FEATURES)) and bool(f.isnan().all())


@pytest.fixture(scope="module")
def reader_and_graph():
    torch.manual_seed(0)
    reader = Reader(tasks=["digits"], hidden=8, layers=1, probes=2, data_probes=16).fill_data_probes().eval()
    return reader, to_graph(metanet.nets.build("mlp:64-8-10:relu", seed=0))


@pytest.mark.parametrize("kw", [dict(steps=0), dict(steps=2.7), dict(steps=True), dict(images=-1), dict(images=0),
                                dict(images=1.5), dict(steps=1, images=-1)])
def test_bad_scan_options_are_config_errors(reader_and_graph, kw):
    reader, g = reader_and_graph
    # steps=0 ran 300 steps, 2.7 ran 2, images=-1 scanned all images but the last: all silently
    with pytest.raises(ConfigError, match="must be a whole number >= 1"):
        scan_features(reader, g, **kw)


def test_numpy_whole_numbers_are_the_same_options(reader_and_graph):
    reader, g = reader_and_graph
    a = scan_features(reader, g, steps=2, images=8, batch=4)
    b = scan_features(reader, g, steps=np.int64(2), images=np.int64(8), batch=4)
    assert a.shape == (1, 4) and torch.equal(a, b)
