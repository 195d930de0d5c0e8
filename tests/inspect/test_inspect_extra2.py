"""NetView on awkward Sequentials, measurements with no variants / no examples, picture layout, and the
`metanet edit` flags that tune another edit (metanet/inspect/netview.py, measure.py, pictures.py, cli.py)."""

from __future__ import annotations

import copy

import pytest
import torch
from inspect_helpers import digits_mlp
from matplotlib.backends.backend_agg import FigureCanvasAgg
from torch import nn

from metanet import tasks
from metanet.cli import main
from metanet.inspect import inspect
from metanet.inspect import measure
from metanet.inspect.netview import NetView
from metanet.inspect.pictures import top_examples
from metanet.io import save
from metanet.nets import build

SEQUENTIALS = {
    "dropout everywhere": (lambda: nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, 8), nn.Dropout(0.1),
                                                 nn.ReLU(), nn.Dropout(), nn.Linear(8, 3)), (1, 8, 8)),
    "pool stride padding": (lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 5, (3, 2), stride=(2, 1), padding=(1, 0)),
        nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(10, 3)), (1, 16, 8)),
    "pool before act": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(4, 2, 3),
                                              nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3)),
                        (1, 12, 12)),
    "dropout around flatten": (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Dropout(), nn.Flatten(),
                                                     nn.Dropout(), nn.Linear(72, 4), nn.GELU(), nn.Linear(4, 3)),
                               (1, 8, 8)),
    "linear into linear": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.Linear(8, 6), nn.ReLU(),
                                                 nn.Linear(6, 3)), (1, 8, 8)),
    "rgb global pool": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                              nn.Linear(4, 3)), (3, 9, 7)),
}


@pytest.mark.parametrize("name", sorted(SEQUENTIALS))
def test_masking_a_neuron_is_zeroing_its_consumer_columns(name):
    make, shape = SEQUENTIALS[name]
    torch.manual_seed(0)
    model = make().eval()
    x = torch.rand(5, *shape)
    v = NetView(model)
    assert torch.allclose(v.forward(x)[0], model(x), atol=1e-6)
    for L in v.layers:
        j = L.width - 1
        mask = torch.ones(1, L.width)
        mask[0, j] = 0
        masked = v.forward(x, {L.index: mask})[0][0]
        zeroed = copy.deepcopy(model)
        p = dict(zeroed.named_parameters())
        with torch.no_grad():
            for c in L.consumers:
                c.columns(p[c.weight], j).zero_()
        assert torch.allclose(masked, zeroed(x), atol=1e-5)


@pytest.mark.parametrize("arch", ["mlp:64-8-4:relu", "cnn:1-3-4-4:relu:k3:s2"])
def test_zero_variants_give_empty_results(arch):
    # masks of shape (0, width) were a raw RuntimeError (view with -1 of an empty tensor)
    v = NetView(build(arch, seed=0))
    x, y = torch.rand(3, 1, 8, 8), torch.tensor([0, 1, 2])
    w = v.layers[0].width
    assert v.forward(x, {1: torch.ones(0, w)})[0].shape == (0, 3, 4)
    assert measure.predictions(v, x, {1: torch.ones(0, w)}).shape == (0, 3)
    s = measure.evaluate_masks(v, x, y, 4, {1: torch.ones(0, w)})
    assert s.accuracy.shape == (0,) and s.per_class.shape == (0, 4) and s.loss.shape == (0,)


def test_measurements_on_no_examples_are_empty_or_nan():
    # activations / predictions of no examples were a raw "torch.cat(): expected a non-empty list"; the scores of
    # no examples were accuracy 0 and loss 0 (a perfect loss), not undefined
    v = NetView(build("cnn:1-3-4-4:relu:k3:s2", seed=0))
    x, y = torch.rand(0, 1, 8, 8), torch.zeros(0, dtype=torch.long)
    assert {k: tuple(a.shape) for k, a in measure.activations(v, x).items()} == {1: (0, 3), 2: (0, 4)}
    assert measure.predictions(v, x).shape == (0,)
    assert measure.predictions(v, x, {1: torch.ones(2, 3)}).shape == (2, 0)
    s = measure.evaluate_masks(v, x, y, 4, {})
    assert torch.isnan(s.accuracy).all() and torch.isnan(s.loss).all()


def test_top_examples_label_fits_a_one_neuron_layer():
    # with one or two neuron rows the y label ("layer 1 neuron -> classes it supports") was cut off at both ends
    g = torch.Generator().manual_seed(0)
    task = tasks.from_examples(torch.rand(60, 1, 6, 10, generator=g), torch.arange(60) % 3, name="rect")
    model = nn.Sequential(nn.Flatten(), nn.Linear(60, 1), nn.ReLU(), nn.Linear(1, 3))
    db = inspect(model, task, reader=None)
    fig = top_examples(db, task.split("test")[0], 1)
    box = fig.axes[0].yaxis.label.get_window_extent(FigureCanvasAgg(fig).get_renderer())
    height = fig.get_size_inches()[1] * fig.dpi
    assert box.y0 >= 0 and box.y1 <= height


@pytest.fixture(scope="module")
def net_file(tmp_path_factory):
    return save(digits_mlp(), tmp_path_factory.mktemp("extra2") / "net.safetensors", task="digits")


@pytest.mark.parametrize("flags, named", [
    (["--blind"], "--blind tunes --repair-backdoor"),
    (["--max-asr", "0.2"], "--max-asr tunes --repair-backdoor"),
    (["--max-drop", "0.05"], "--max-drop tunes --repair-backdoor"),
    (["--prune-method", "necessity"], "--prune-method tunes --prune SPARSITY"),
    (["--prune-scope", "global"], "--prune-scope tunes --prune SPARSITY"),
])
def test_cli_edit_tuning_flag_without_its_edit_is_refused(tmp_path, capsys, net_file, flags, named):
    # they were silently ignored: `--remove 1:3 --blind` ran the removal as if --blind was not there
    out = tmp_path / "out.safetensors"
    assert main(["edit", str(net_file), "--remove", "1:3", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not out.exists()


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "ten"])
def test_cli_edit_budget_out_of_range_names_the_flag(tmp_path, capsys, net_file, value):
    # was "max_asr 1.5 is not valid" (the Python name) after loading the network, or argparse's "invalid float"
    out = tmp_path / "out.safetensors"
    with pytest.raises(SystemExit) as e:
        main(["edit", str(net_file), "--repair-backdoor", "--max-asr", value, "--out", str(out)])
    assert e.value.code == 2
    assert "--max-asr: must be a fraction in [0, 1]" in capsys.readouterr().err
    assert not out.exists()
