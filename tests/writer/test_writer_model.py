"""The Writer (metanet.writer.model): Writer.write / Writer.forward / Writer.save / Writer.load on awkward but
legitimate inputs (shuffled or float64 graphs, one-graph batches, architectures given as modules, paths under ``~``,
a meta default device) and bad ones (meta supports, labels outside the classes, non-finite or overflowing inputs,
CNN supports it cannot read: 1-d signals, flattened images);
loading leaves the caller's random stream alone; tiny support sets still give networks with live hidden units."""

from __future__ import annotations

import warnings

import pytest
import torch

from metanet import tasks
from metanet.errors import ArchError, CheckpointError, ConfigError, GraphError, TaskError
from metanet.nets import Arch, build
from metanet.writer import Writer, generate
from metanet.writer.generate import support_set
from writer_helpers import needs_shipped


ARCH = "mlp:64-12-3:relu"


def _support(n: int = 30):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 8, 8, generator=g), torch.arange(n) % 3


def _same(a, b) -> bool:
    return a.edge_index.equal(b.edge_index) and a.edge_attr.equal(b.edge_attr) and a.x.equal(b.x)


def test_forward_reads_a_graph_whose_edges_come_in_another_order():
    """from_graph accepts edges in any order (by edge_kind); forward read the starting weights by position, so the
    same network with its edges shuffled was written from other (scrambled) starting weights."""
    from metanet.graph import from_graph, to_graph

    x, y = _support()
    graph = to_graph(build(ARCH, seed=3))
    perm = torch.randperm(graph.num_edges, generator=torch.Generator().manual_seed(0))
    shuffled = graph.clone()
    shuffled.edge_index, shuffled.edge_attr = graph.edge_index[:, perm], graph.edge_attr[perm]
    shuffled.edge_kind = graph.edge_kind[perm]
    assert from_graph(shuffled)(x).equal(from_graph(graph)(x))  # the same network
    w = Writer().eval()
    assert _same(w(shuffled, x, y, seed=1), w(graph, x, y, seed=1))


def test_forward_takes_a_one_graph_batch_and_names_other_inputs():
    from torch_geometric.data import Batch

    from metanet.graph import to_graph

    x, y = _support()
    graph = to_graph(build(ARCH, seed=3))
    w = Writer().eval()
    assert _same(w(Batch.from_data_list([graph]), x, y), w(graph, x, y))  # was an AttributeError (arch is a list)
    with pytest.raises(GraphError, match="one network per call, got a Batch of 2 graphs"):
        w(Batch.from_data_list([graph, graph]), x, y)
    with pytest.raises(GraphError, match="expected a NeuralGraph .*got MLP"):
        w(build(ARCH, seed=3), x, y)


def test_forward_of_a_float64_graph_and_refusal_of_a_meta_graph():
    from metanet.graph import to_graph

    x, y = _support()
    w = Writer().eval()
    # the graph of a .double() network: 'expected scalar type Float but found Double'
    assert _same(w(to_graph(build(ARCH, seed=3).double()), x, y), w(to_graph(build(ARCH, seed=3)), x, y))
    with pytest.raises(GraphError, match="'meta' device"):
        w(to_graph(build(ARCH, seed=3)).to("meta"), x, y)


def test_write_refuses_meta_support_and_bad_starting_weights():
    x, y = _support()
    w = Writer().eval()
    with pytest.raises(TaskError, match="support inputs are on the 'meta' device"):
        w.write(ARCH, x.to("meta"), y)
    with pytest.raises(TaskError, match="support labels are on the 'meta' device"):
        w.write(ARCH, x, y.to("meta"))
    start = {k: v.unsqueeze(0) for k, v in build(ARCH, seed=3).state_dict().items()}
    with pytest.raises(ArchError, match="layers.0.weight .* floating-point tensor with values, got one of dtype"):
        w.write(ARCH, x, y, start={k: v.long() for k, v in start.items()})
    with pytest.raises(ArchError, match="'meta' device"):
        w.write(ARCH, x, y, start={k: v.to("meta") for k, v in start.items()})
    # float64 starting weights are the same starting weights
    a = w.write(ARCH, x, y, start={k: v.double() for k, v in start.items()})
    b = w.write(ARCH, x, y, start=start)
    assert all(a[k].dtype == torch.float32 and a[k].equal(b[k]) for k in b)


def test_write_refuses_one_class_and_overflowing_inputs():
    x, y = _support()
    w = Writer().eval()
    # one output: the normalised first layer came out ~1e6 and the head zero
    with pytest.raises(ArchError, match="1 output; the writer writes classifiers of at least 2 classes"):
        w.write("mlp:64-12-1:relu", x, y * 0)
    # float32 second moments overflow: a raw ValueError from scipy's assignment solver
    with pytest.raises(TaskError, match=r"support inputs reach 1e\+20.*scale them"):
        w.write(ARCH, x * 1e20, y)
    p = w.write(ARCH, x * 1e6, y)  # large but representable: written
    assert all(bool(v.isfinite().all()) for v in p.values())


def test_write_with_grad_requiring_support_does_not_warn():
    x, y = _support()
    x.requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float() of a grad-requiring tensor in the augmentation's check
        p = Writer().eval().write(ARCH, x, y)
    assert p["layers.0.weight"].requires_grad  # still differentiable in the support set


def test_write_ignores_torch_default_device():
    x, y = _support()
    w = Writer().eval()
    ref = w.write(ARCH, x, y, candidates=2, seed=4)
    torch.set_default_device("meta")
    try:
        got = w.write(ARCH, x, y, candidates=2, seed=4)
    finally:
        torch.set_default_device(None)
    assert all(got[k].device.type == "cpu" and got[k].equal(ref[k]) for k in ref)


def test_writer_load_names_a_non_path_and_save_a_meta_writer(tmp_path):
    with pytest.raises(CheckpointError, match="a writer checkpoint is a path .* got int 3"):
        Writer.load(3)
    with pytest.raises(ConfigError, match="'meta' device .* cannot be saved"):
        Writer().to("meta").save(tmp_path / "w.safetensors")
    assert not list(tmp_path.iterdir())
    w = Writer(hidden=8, message=4, augment="none")
    p = w.save(tmp_path / "a dir" / "w 1.safetensors")
    back = Writer.load(str(p).encode())  # bytes paths, as os.fsdecode takes them
    assert back.config() == w.config()
    assert all(torch.equal(v, back.state_dict()[k]) for k, v in w.state_dict().items())


def _after_seed(load) -> torch.Tensor:
    torch.manual_seed(0)
    load()
    return torch.rand(3)


def test_loading_a_saved_writer_does_not_draw_from_the_global_rng(tmp_path, untrained):
    # Writer.load built the module (its throwaway default init from torch's global RNG) before loading its weights:
    # torch.manual_seed(0); Writer.load(p); torch.rand(3) differed from the same lines without the load
    path = untrained.save(tmp_path / "w.safetensors")
    assert torch.equal(_after_seed(lambda: Writer.load(path)), _after_seed(lambda: None))
    loaded = Writer.load(path)
    ref = untrained.state_dict()
    assert all(torch.equal(v, ref[k]) for k, v in loaded.state_dict().items())


@needs_shipped
def test_loading_the_shipped_writer_and_generating_keep_the_global_rng(digits):
    assert torch.equal(_after_seed(Writer.load), _after_seed(lambda: None))
    # generate(writer=None) loads the shipped writer inside: the caller's stream stays as it was there too
    gen = lambda: generate(digits, arch="mlp:64-8-10:relu", candidates=2, shots=5, verify=False)  # noqa: E731
    assert torch.equal(_after_seed(gen), _after_seed(lambda: None))


def test_load_under_a_meta_default_device_gives_a_writer_with_values(tmp_path, untrained, digits):
    # under torch.set_default_device("meta") Writer.load built the module on 'meta' and load_state_dict kept no
    # values: a writer that could not write ("... is on the 'meta' device; load one with Writer.load(path)")
    path = untrained.save(tmp_path / "w.safetensors")
    with torch.device("meta"):  # what torch.set_default_device("meta") does, undone on exit
        loaded = Writer.load(path)
    ref = untrained.state_dict()
    assert all(v.device.type == "cpu" and torch.equal(v, ref[k]) for k, v in loaded.state_dict().items())
    assert loaded.identity()["source"] == "file"


def test_meta_support_is_named_under_a_default_device(untrained):
    # under a default device (torch.set_default_device, "meta" or even "cpu") torch.as_tensor copied the meta
    # support there first: "must be tensors or arrays (NotImplementedError: Cannot copy out of meta tensor...)"
    x, y = torch.rand(6, 5), torch.tensor([0, 1, 0, 1, 0, 1])
    for device in ("meta", "cpu"):
        with torch.device(device):
            with pytest.raises(TaskError, match="support inputs are on the 'meta' device and hold no values"):
                untrained.write("mlp:5-4-2:relu", x.to("meta"), y)
            with pytest.raises(TaskError, match="support labels are on the 'meta' device and hold no values"):
                untrained.write("mlp:5-4-2:relu", x, y.to("meta"))


def test_a_writer_saved_under_home_loads_and_is_named_by_its_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    Writer.load().save(tmp_path / "w.safetensors")
    w = Writer.load("~/w.safetensors")
    ident = w.identity()
    assert ident["source"] == "file" and ident["path"] == str((tmp_path / "w.safetensors").resolve())


def test_write_names_the_labels_outside_the_classes(untrained):
    # labels [3, 7] of a 2-class task: "support labels must be in 0..1 and non-empty" named neither the labels nor
    # the fix; an empty support set was reported as a label problem
    x = torch.rand(6, 5)
    with pytest.raises(TaskError, match=r"support labels must be in 0\.\.1 \(class ids\), got labels \[3, 7\]; "
                                        r"renumber"):
        untrained.write("mlp:5-4-2:relu", x, torch.tensor([3, 7, 3, 7, 3, 7]))
    with pytest.raises(TaskError, match="the support set is empty"):
        untrained.write("mlp:5-4-2:relu", x[:0], torch.zeros(0, dtype=torch.long))


def test_write_reads_an_architecture_as_generate_does(untrained, digits):
    # a metanet MLP module was "an architecture mapping is expected, got MLP"; None named a mapping too
    from metanet.errors import ArchError
    from metanet.nets import build

    x, y = digits.split("train")
    ref = untrained.write("mlp:64-8-10:relu", x[:60], y[:60], seed=1)
    got = untrained.write(build("mlp:64-8-10:relu", seed=7), x[:60], y[:60], seed=1)
    assert all(got[k].equal(v) for k, v in ref.items())
    with pytest.raises(ArchError, match="arch must be an Arch, its string .* got NoneType None"):
        untrained.write(None, x[:60], y[:60])
    with pytest.raises(ArchError, match="not a Sequential; give an architecture: the same layers are arch="):
        untrained.write(torch.nn.Sequential(torch.nn.Linear(64, 10)), x[:60], y[:60])


@pytest.mark.parametrize("bad, count", [(float("nan"), 1), (float("inf"), 2), (-float("inf"), 3)])
def test_non_finite_support_inputs_are_still_counted(trained, bad, count):
    from metanet.errors import TaskError

    x, y = support_set(tasks.resolve("digits"), 2, 0)
    x.view(-1)[:count] = bad
    with pytest.raises(TaskError, match=f"contain {count} NaN or infinite values"):
        trained.write("mlp:64-16-10:relu", x, y)


def _two_examples():
    # mnist1d, one example per class: not augmented (too few examples to measure smoothness), and the learned
    # shift put every ReLU unit's threshold beyond the support's standardised range (at most 1 on two examples)
    x, y = support_set(tasks.resolve("mnist1d[0,1]"), 1, 0)
    return x, y


def test_write_keeps_some_unit_of_every_hidden_layer_active_on_the_support(trained):
    x, y = _two_examples()
    arch = Arch.coerce("mlp:40-32-32-2:relu")
    with torch.no_grad():
        p = trained.write(arch, x, y, 2, candidates=2, seed=1)
    for i in range(2):
        net = build(arch, seed=None)
        net.load_state_dict({k: v[i] for k, v in p.items()})
        h = x.flatten(1)
        for layer in net.layers[:-1]:
            h = torch.relu(layer(h))
            assert bool((h > 0).any()), "a hidden layer is dead on the whole support set"
        with torch.no_grad():
            out = net(x)
        assert out.argmax(1).tolist() == y.tolist()  # it fits its own two examples


def test_write_cnn_layer_dead_on_the_support_is_revived(trained):
    # the convolution path: 1x1 images with 40 channels and k=1 are the same two rows as the MLP's
    x, y = _two_examples()
    x = x.reshape(2, 40, 1, 1)
    arch = Arch.coerce("cnn:40-16-2:relu:k1:s1")
    with torch.no_grad():
        p = trained.write(arch, x, y, 2, candidates=2, seed=0)
        for i in range(2):
            net = build(arch, seed=None)
            net.load_state_dict({k: v[i] for k, v in p.items()})
            out = net(x)
            assert not torch.equal(out[0], out[1])
            assert out.argmax(1).tolist() == y.tolist()


def test_the_writer_does_not_tell_a_1d_signal_to_add_a_channel():
    """mnist1d's (1, 40) signals were told "images of shape (n, H, W) need their channel dimension ... x[:, None]";
    metanet.verify says they need an mlp, and so does the writer now."""
    from metanet.writer import Writer

    w, y = Writer(), torch.arange(20) % 10
    with pytest.raises(ArchError) as info:
        w.write("cnn:1-4-10:relu:k3:s1", torch.rand(20, 1, 40), y)
    msg = str(info.value)
    assert "x[:, None]" not in msg and "channel dimension" not in msg
    assert msg.endswith("support inputs of shape (1, 40); inputs that are not images need an mlp (of 40 input "
                        "features)")
    with pytest.raises(ArchError, match=r"shape \(784,\); flattened images need their shape back, \(n, 1, 28, 28\): "
                                        r"x\.view\(-1, 1, 28, 28\)$"):
        w.write("cnn:1-4-10:relu:k3:s1", torch.rand(20, 784), y)
    with pytest.raises(ArchError, match=r"shape \(28, 28\); images of shape \(n, H, W\) need their channel dimension"):
        w.write("cnn:1-4-10:relu:k3:s1", torch.rand(20, 28, 28), y)
