"""Fuzz: every public entry point taking "a network" (verify, read, save, load, load_meta, to_graph, describe, plot,
layout, permute_hidden, refine, inspect and the network-taking functions of ``metanet.edit.__all__``) given each
form a network may take -- an ``nn.Module``, the path of a network saved with ``metanet.save`` (``Path``, ``str``,
``bytes``), ``metanet.generate``'s result (a ``Generated``), a ``NeuralGraph``, a PyG ``Batch`` of one graph -- and
mangled forms (a ``Generated`` holding no module, graphs missing a tensor or of a wrong dtype, a text file, a folder,
an empty or truncated file, a too-long name, a state_dict, lists mixing forms...). Every call works or raises a
:class:`~metanet.errors.MetanetError`; a refused call creates or rewrites no file and changes no input network; and
the equivalent valid forms of one network give the same result wherever the function is deterministic."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from fuzz_helpers import files_state, fuzz_settings, only_metanet_errors, same_state, state_of
from hypothesis import example, given
from hypothesis import strategies as st

import metanet
from metanet import edit
from metanet.errors import FileFormatError, GraphError, MetanetError
from metanet.graph import describe, layout, permute_hidden, plot, to_graph
from metanet.nets import build

matplotlib.use("Agg")

TASK = "digits[3,8]"  # the task of the module's Generated: two classes, 64 inputs
TRIGGER = {"target": 0, "size": 2, "location": [0, 0]}

#: the forms of the one network ``g.model`` (all equivalent)
VALID = ["module", "path", "str-path", "bytes-path", "generated", "generated-path", "graph", "batch1"]
#: other networks, valid as networks but mostly not fitting TASK
OTHER = ["mlp:4-3-2", "cnn", "skip", "nobias", "float64", "digits10"]
#: forms no entry point should take as a network (each must be a MetanetError, never a raw exception)
MANGLED = ["gen-model-none", "gen-model-str", "gen-model-path", "gen-model-gen", "gen-model-graph",
           "gen-model-meta", "gen-model-script", "graph-no-x", "graph-no-edge_index", "graph-no-edge_attr",
           "graph-no-arch", "graph-no-node_kind", "graph-no-edge_kind", "graph-int-x", "graph-long-edge_attr",
           "graph-half-edge_attr", "graph-float-edge_index", "graph-arch-int", "batch2", "text-file", "directory",
           "empty-file", "truncated", "bytes-text-file", "missing", "symlink-dir", "long-name", "long-path",
           "reader-checkpoint", "state_dict", "list-mixed", "list-with-none", "tuple", "none", "int", "empty-str",
           "empty-bytes", "tensor", "ndarray", "module-list", "dict"]
ALL_FORMS = VALID + OTHER + MANGLED


@pytest.fixture(scope="module")
def gen() -> metanet.Generated:
    """One cheap Generated for the module (not verified: a fraction of a second)."""
    return metanet.generate(TASK, candidates=2, shots=5, seed=0, verify=False)


@pytest.fixture(scope="module")
def forms(gen, tmp_path_factory) -> tuple[dict, Path]:
    """``(name -> form, folder)``; the folder (a name with a space) holds the files forms name, and nothing else."""
    from torch_geometric.data import Batch

    d = tmp_path_factory.mktemp("network forms")
    net = gen.model
    saved = metanet.save(net, d / "net.safetensors", task=TASK)
    gsaved = gen.save(d / "generated.safetensors")
    (d / "notes.txt").write_text("not a network\n")
    (d / "empty.safetensors").write_bytes(b"")
    raw = saved.read_bytes()
    (d / "truncated.safetensors").write_bytes(raw[: len(raw) // 2])
    (d / "sub folder").mkdir()
    os.symlink(d / "sub folder", d / "link")

    def graph(**change) -> object:
        gr = to_graph(net)
        for k, v in change.items():
            if v is None:
                delattr(gr, k)
            else:
                setattr(gr, k, v(getattr(gr, k)) if callable(v) else v)
        return gr

    f = {
        "module": net, "path": saved, "str-path": str(saved), "bytes-path": os.fsencode(saved), "generated": gen,
        "generated-path": gsaved, "graph": to_graph(net), "batch1": Batch.from_data_list([to_graph(net)]),
        "mlp:4-3-2": build("mlp:4-3-2:relu", seed=0), "cnn": build("cnn:1-4-10:relu", seed=0),
        "skip": build("mlp:64-8-8-2:tanh:skip", seed=0), "nobias": build("mlp:64-8-2:relu:nobias", seed=0),
        "float64": build("mlp:64-8-2:relu", seed=0).double(), "digits10": build("mlp:64-8-10:relu", seed=0),
        "gen-model-none": dataclasses.replace(gen, model=None),
        "gen-model-str": dataclasses.replace(gen, model=str(saved)),
        "gen-model-path": dataclasses.replace(gen, model=saved),
        "gen-model-gen": dataclasses.replace(gen, model=gen),
        "gen-model-graph": dataclasses.replace(gen, model=to_graph(net)),
        "gen-model-meta": dataclasses.replace(gen, model=build("mlp:64-64-2:relu").to("meta")),
        "gen-model-script": dataclasses.replace(gen, model=torch.jit.trace(build("mlp:64-64-2:relu"),
                                                                          torch.zeros(1, 64))),
        **{f"graph-no-{k}": graph(**{k: None}) for k in ("x", "edge_index", "edge_attr", "arch", "node_kind",
                                                          "edge_kind")},
        "graph-int-x": graph(x=lambda t: t.int()), "graph-long-edge_attr": graph(edge_attr=lambda t: t.long()),
        "graph-half-edge_attr": graph(edge_attr=lambda t: t.half()),
        "graph-float-edge_index": graph(edge_index=lambda t: t.float()), "graph-arch-int": graph(arch=3),
        "batch2": Batch.from_data_list([to_graph(net), to_graph(build("mlp:64-64-2:relu", seed=1))]),
        "text-file": d / "notes.txt", "directory": d / "sub folder", "empty-file": d / "empty.safetensors",
        "truncated": d / "truncated.safetensors", "bytes-text-file": os.fsencode(d / "notes.txt"),
        "missing": d / "missing.safetensors", "symlink-dir": d / "link", "long-name": str(d / ("n" * 300)),
        "long-path": "/".join(["p" * 200] * 30),
        "reader-checkpoint": Path(metanet.__file__).parent / "checkpoints" / "reader.safetensors",
        "state_dict": net.state_dict(), "list-mixed": [net, saved, gen, to_graph(net)], "list-with-none": [net, None],
        "tuple": (net,), "none": None, "int": 3, "empty-str": "", "empty-bytes": b"", "tensor": torch.zeros(3),
        "ndarray": np.zeros(3), "module-list": torch.nn.ModuleList([net]), "dict": {"model": net},
    }
    assert set(f) == set(ALL_FORMS)
    return f, d


#: entry point -> call(form, out_folder); perm / steps / examples kept small: each call is a fraction of a second
ENTRY = {
    "verify": lambda m, o: metanet.verify(m, TASK),
    "read": lambda m, o: metanet.read(m, scan=False),
    "save": lambda m, o: metanet.save(m, o / "saved.safetensors"),
    "load": lambda m, o: metanet.load(m),
    "load_meta": lambda m, o: metanet.load_meta(m),
    "to_graph": lambda m, o: to_graph(m),
    "describe": lambda m, o: describe(m),
    "plot": lambda m, o: plot(m, max_edges=50),
    "layout": lambda m, o: layout(m),
    "permute_hidden": lambda m, o: permute_hidden(m, 1, list(range(64))[::-1]),
    "refine": lambda m, o: metanet.refine(m, TASK, steps=1, population=2, batch_size=16),
    "inspect": lambda m, o: metanet.inspect(m, TASK, max_examples=20, reader=None),
    "edit.remove": lambda m, o: edit.remove(m, "1:0,5", TASK),
    "edit.scale": lambda m, o: edit.scale(m, "1:0", 0.5, TASK),
    "edit.clamp": lambda m, o: edit.clamp(m, "1:0", TASK),
    "edit.prune": lambda m, o: edit.prune(m, 0.5, TASK, max_examples=50),
    "edit.precision": lambda m, o: edit.precision(m, "*=int4", TASK),
    "edit.sparsity": lambda m, o: edit.sparsity(m),
    "edit.attack_success_rate": lambda m, o: edit.attack_success_rate(m, TASK, TRIGGER),
    "edit.repair_backdoor": lambda m, o: edit.repair_backdoor(m, TASK, TRIGGER, max_rounds=1, max_examples=50),
    "edit.reconstruct_trigger": lambda m, o: edit.reconstruct_trigger(m, torch.rand(6, 64), 3, steps=1, batch=6),
    "edit.save_edited": lambda m, o: edit.save_edited(m, o / "edited.safetensors", []),
}

#: (entry, mangled form) taken on purpose: layout() reads only an architecture; from_graph needs no node_kind /
#: edge_kind (only read() does); a meta-device network encodes as an architecture graph; a Generated holding a graph
#: stands for that graph where graphs are taken; verify / attack_success_rate take lists (and a Batch: its graphs)
ACCEPTED = (
    {("layout", f) for f in MANGLED if f.startswith(("graph-", "gen-model-"))}
    | {(e, f) for e in ENTRY for f in ("graph-no-node_kind", "graph-no-edge_kind") if e != "read"}
    | {(e, "gen-model-meta") for e in ("to_graph", "describe", "permute_hidden")}
    | {(e, "gen-model-graph") for e in ("plot", "describe", "save")}
    | {(e, f) for e in ("verify", "edit.attack_success_rate") for f in ("batch2", "list-mixed", "tuple")}
    | {("load_meta", "reader-checkpoint")}  # a safetensors file: its (empty) metanet metadata
)


def _every_entry_once(forms, tmp_path_factory, entry: str, form: str) -> object:
    f, d = forms
    m = f[form]
    out = tmp_path_factory.mktemp("out")
    before_files, before_out = files_state(d), files_state(out)
    nets = [x for x in (m if isinstance(m, (list, tuple)) else [m]) if isinstance(x, torch.nn.Module)]
    nets += [x.model for x in (m if isinstance(m, (list, tuple)) else [m])
             if isinstance(x, metanet.Generated) and isinstance(x.model, torch.nn.Module)]
    before_nets = [state_of(n) for n in nets if not any(t.is_meta for t in n.state_dict().values())]
    r = only_metanet_errors(lambda: ENTRY[entry](m, out))
    assert files_state(d) == before_files, f"{entry}({form}) created, removed or rewrote a file of the folder"
    if isinstance(r, MetanetError) or entry not in ("save", "edit.save_edited"):
        assert files_state(out) == before_out, f"{entry}({form}) wrote a file"
    else:
        assert [p.name for p in out.iterdir()] == [Path(r).name]
    for n, s in zip(nets, before_nets):
        assert same_state(state_of(n), s), f"{entry}({form}) changed its input network"
    if entry == "plot" and not isinstance(r, MetanetError):
        import matplotlib.pyplot as plt

        plt.close(r)
    return r


# --- every entry point x every form -------------------------------------------------------------------------
@fuzz_settings(400)
@given(entry=st.sampled_from(sorted(ENTRY)), form=st.sampled_from(ALL_FORMS))
@example(entry="load", form="module")  # was a raw TypeError (os.fsdecode)
@example(entry="load_meta", form="generated")  # was a raw TypeError
@example(entry="load", form="state_dict")  # was a raw TypeError
@example(entry="verify", form="long-name")  # was a raw OSError (ENAMETOOLONG) from pathlib's is_file
@example(entry="to_graph", form="long-path")  # was a raw OSError
@example(entry="read", form="gen-model-none")
@example(entry="edit.remove", form="graph-no-x")
@example(entry="describe", form="batch2")
def test_every_entry_point_takes_every_form(forms, tmp_path_factory, entry, form):
    r = _every_entry_once(forms, tmp_path_factory, entry, form)
    if form in MANGLED and (entry, form) not in ACCEPTED:
        # nothing here stands for a network to run (a text file, a Generated without a module...): refused
        assert isinstance(r, MetanetError), (entry, form, r)


@fuzz_settings(60)
@given(entry=st.sampled_from(sorted(ENTRY)), form=st.sampled_from(VALID))
def test_valid_forms_are_taken(forms, tmp_path_factory, entry, form):
    """The equivalent valid forms are taken alike: all accepted, or all refused for one documented reason."""
    refused = {  # (entry, form) refused on purpose, with the error class
        ("save", "path"), ("save", "str-path"), ("save", "bytes-path"), ("save", "generated-path"),  # order hint
        ("edit.save_edited", "path"), ("edit.save_edited", "str-path"), ("edit.save_edited", "bytes-path"),
        ("edit.save_edited", "generated-path"), ("edit.save_edited", "generated"),  # its report is its metadata
        ("to_graph", "graph"), ("to_graph", "batch1"),  # already a graph
        ("permute_hidden", "graph"), ("permute_hidden", "batch1"),  # permutes weights: the message says how
        ("load", "module"), ("load", "generated"), ("load", "graph"), ("load", "batch1"),  # files only
        ("load_meta", "module"), ("load_meta", "generated"), ("load_meta", "graph"), ("load_meta", "batch1"),
        ("layout", "path"), ("layout", "str-path"), ("layout", "bytes-path"), ("layout", "generated-path"),
        ("layout", "batch1"),  # architectures only
    }
    refused |= {("edit.reconstruct_trigger", f) for f in VALID}  # a two-class network: needs at least 3 classes
    r = _every_entry_once(forms, tmp_path_factory, entry, form)
    assert isinstance(r, MetanetError) == ((entry, form) in refused), (entry, form, r)


# --- equal results for equivalent forms ------------------------------------------------------------------------
def _report(r) -> str:
    rs = r if isinstance(r, list) else [r]
    return repr([{k: v for k, v in x.to_dict().items() if k != "seconds"} for x in rs])


def _sd(m) -> str:
    return repr({k: v.tolist() for k, v in m.state_dict().items()})


def _edit(r) -> tuple:
    return _sd(r.model), _report(r.report.before), _report(r.report.after)


def _db(db) -> str:
    return repr(([db.layer(k) for k in db.layers], {k: v for k, v in db.meta.items() if k != "seconds"}))


#: entry -> a fingerprint of its result (deterministic entry points only; plot draws, reconstruct needs 3 classes)
FINGERPRINT = {
    # read: what a file records of itself (class_names, recorded_task) is no reading of the network
    "verify": _report,
    "read": lambda r: repr({k: v for k, v in r.items() if k not in ("class_names", "recorded_task")}),
    "describe": str, "edit.sparsity": repr, "edit.attack_success_rate": repr,
    "to_graph": lambda g: repr((g.x.tolist(), g.edge_index.tolist(), g.edge_attr.tolist(), g.arch)),
    "permute_hidden": _sd, "refine": lambda r: _sd(r.model), "inspect": _db,
    "edit.remove": _edit, "edit.scale": _edit, "edit.clamp": _edit, "edit.prune": _edit, "edit.precision": _edit,
    "layout": lambda lay: repr((lay.sizes, lay.describe_arch())),
}


@pytest.fixture(scope="module")
def fingerprints(forms, tmp_path_factory) -> dict:
    """entry -> the fingerprint of its result on the plain module (computed on first use)."""
    return {}


@fuzz_settings(120)
@given(entry=st.sampled_from(sorted(FINGERPRINT)),
       form=st.sampled_from([f for f in VALID if f != "module"]))
@example(entry="verify", form="batch1")
@example(entry="inspect", form="graph")
@example(entry="edit.prune", form="bytes-path")
def test_equivalent_forms_give_equal_results(forms, fingerprints, tmp_path_factory, entry, form):
    f, _ = forms
    out = tmp_path_factory.mktemp("out")
    if entry not in fingerprints:
        fingerprints[entry] = FINGERPRINT[entry](ENTRY[entry](f["module"], out))
    r = only_metanet_errors(lambda: ENTRY[entry](f[form], out))
    if isinstance(r, MetanetError):  # refused by design (e.g. to_graph of a graph): a GraphError saying so
        assert entry in ("to_graph", "permute_hidden", "layout") and isinstance(r, GraphError), (entry, form, r)
        return
    assert FINGERPRINT[entry](r) == fingerprints[entry], f"{entry}({form}) differs from {entry}(module)"


@fuzz_settings(40)
@given(picks=st.lists(st.sampled_from(VALID), min_size=1, max_size=5),
       bad=st.none() | st.sampled_from(MANGLED + OTHER), at=st.integers(0, 5))
@example(picks=["module", "graph", "generated", "bytes-path"], bad=None, at=0)
@example(picks=["module", "batch1"], bad=None, at=0)  # a Batch inside a list
@example(picks=["module"], bad="gen-model-none", at=1)
def test_verify_lists_mixing_forms(forms, fingerprints, picks, bad, at):
    """A list mixing forms of one network: one equal Report per item; one bad item: a MetanetError."""
    f, _ = forms
    models = [f[p] for p in picks]
    if bad is not None:
        models.insert(min(at, len(models)), f[bad])
    r = only_metanet_errors(lambda: metanet.verify(models, TASK))
    if bad is None or bad in ("graph-no-node_kind", "graph-no-edge_kind"):  # from_graph needs neither
        assert isinstance(r, list) and len(r) == len(models), r
        one = _report(metanet.verify(f["module"], TASK))
        assert all(_report([x]) == one for x in r)
    else:  # another architecture, or no network: the whole call is refused
        assert isinstance(r, MetanetError), (bad, r)


@fuzz_settings(20)
@given(form=st.sampled_from(["module", "graph", "batch1"]), meta=st.sampled_from([{}, {"task": TASK}, {"a": [1]}]))
def test_save_of_equivalent_forms_writes_equal_bytes(forms, tmp_path_factory, form, meta):
    """save() of a module, its graph or a Batch of it: the same file (the same bytes), which loads back exactly."""
    f, _ = forms
    out = tmp_path_factory.mktemp("saved")
    a = metanet.save(f["module"], out / "a.safetensors", **meta)
    b = metanet.save(f[form], out / "b.safetensors", **meta)
    assert a.read_bytes() == b.read_bytes()
    assert same_state(state_of(metanet.load(b)), state_of(f["module"]))


# --- inplace edits of each form --------------------------------------------------------------------------------
@fuzz_settings(30)
@given(form=st.sampled_from(VALID), op=st.sampled_from(["edit.remove", "edit.scale", "edit.clamp", "edit.prune",
                                                         "edit.precision"]))
def test_inplace_edit_of_each_form(forms, gen, tmp_path_factory, form, op):
    """inplace=True edits the module the caller holds (a module, a Generated's .model) and is refused (ConfigError,
    no file touched) for a path or a graph, whose edit would land in a module dropped at once."""
    import copy

    f, d = forms
    g = dataclasses.replace(gen, model=copy.deepcopy(gen.model))  # its own copy: inplace edits it
    m = {"module": g.model, "generated": g}.get(form, f[form])
    calls = {"edit.remove": lambda: edit.remove(m, "1:0", TASK, inplace=True),
             "edit.scale": lambda: edit.scale(m, "1:0", 0.5, TASK, inplace=True),
             "edit.clamp": lambda: edit.clamp(m, "1:0", TASK, inplace=True),
             "edit.prune": lambda: edit.prune(m, 0.5, TASK, max_examples=50, inplace=True),
             "edit.precision": lambda: edit.precision(m, "*=int4", TASK, inplace=True)}
    before, state = files_state(d), state_of(g.model)
    r = only_metanet_errors(calls[op])
    assert files_state(d) == before
    if form in ("module", "generated"):
        assert not isinstance(r, MetanetError) and r.model is g.model
    else:
        assert isinstance(r, metanet.ConfigError), (form, r)
        assert same_state(state_of(g.model), state)


# --- regressions (io.py) and known bugs --------------------------------------------------------------------------
@pytest.mark.parametrize("obj", [build("mlp:4-3-2:relu"), None, 3, {"a": 1}, [Path("x.safetensors")]],
                         ids=["module", "none", "int", "dict", "list"])
def test_load_of_a_non_path_names_the_problem(obj, tmp_path):
    """load / load_meta / save's path of what is no path: a FileFormatError naming the type, not a raw TypeError
    from os.fsdecode."""
    for fn in (metanet.load, metanet.load_meta, lambda p: metanet.save(build("mlp:4-3-2:relu"), p)):
        with pytest.raises(FileFormatError, match=type(obj).__name__):
            fn(obj)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["n" * 300, "/".join(["p" * 200] * 30)], ids=["long-name", "long-path"])
def test_too_long_path_is_a_file_format_error(name, tmp_path):
    """A path the OS refuses to look up (ENAMETOOLONG): a FileFormatError, as a missing file is, not a raw OSError
    from pathlib's is_file (which swallows only 'no such file'-like errors)."""
    p = str(tmp_path / name) if "/" not in name else name
    for fn in (metanet.load, metanet.load_meta, lambda p: metanet.verify(p, TASK), to_graph):
        with pytest.raises(FileFormatError, match="too long|cannot be"):
            fn(p)


GEN_NOT_MODULE = ["gen-model-str", "gen-model-path", "gen-model-gen", "gen-model-graph", "gen-model-none"]


@pytest.mark.parametrize("form", GEN_NOT_MODULE)
@pytest.mark.parametrize("entry", ["inspect", "edit.remove", "edit.prune", "edit.repair_backdoor",
                                   "edit.attack_success_rate"])
def test_generated_holding_no_module_is_an_arch_error(forms, tmp_path, entry, form):
    """A Generated whose .model is a path / Generated / graph: an ArchError naming what it holds (NetView's as_model
    handed it back unchecked: a raw AttributeError 'str' object has no attribute 'named_parameters'; and
    attack_success_rate iterated it: a raw TypeError)."""
    f, _ = forms
    r = only_metanet_errors(lambda: ENTRY[entry](f[form], tmp_path))
    assert isinstance(r, metanet.ArchError), r
    held = "None" if f[form].model is None else type(f[form].model).__name__
    assert "Generated" in str(r) and held in str(r), str(r)


@pytest.mark.parametrize("net", [torch.nn.Linear(3, 2), build("mlp:4-3-2:relu"), build("mlp:64-8-10:relu")],
                         ids=["linear", "mlp-4-inputs", "ten-classes"])
def test_asr_of_a_network_not_fitting_the_task_is_an_arch_error(net):
    """attack_success_rate checks the network fits the task, as verify does (a raw RuntimeError from the matmul,
    or a silent rate over the wrong classes)."""
    with pytest.raises(metanet.ArchError, match="input|classes"):
        edit.attack_success_rate(net, TASK, TRIGGER)


@pytest.mark.parametrize("form", ["none", "int", "tensor", "ndarray", "list-with-none", "module-list"])
def test_asr_of_no_network_is_an_arch_error(forms, form):
    """attack_success_rate of no network: an ArchError naming what it got (iterated: a raw TypeError /
    AttributeError / NotImplementedError)."""
    f, _ = forms
    with pytest.raises(metanet.ArchError, match="needs a network or a list of them, got"):
        edit.attack_success_rate(f[form], TASK, TRIGGER)


@pytest.mark.parametrize("arch", ["mlp:4-3-3:relu", "cnn:1-4-10:relu", "mlp:64-3-2:relu"])
def test_reconstruct_trigger_of_a_network_not_taking_x_is_an_arch_error(arch):
    """reconstruct_trigger checks the network takes x's examples and has num_classes logits (a raw RuntimeError
    from the first layer, mid-search)."""
    with pytest.raises(metanet.ArchError, match=r"x of shape \(6, 64\)"):
        edit.reconstruct_trigger(build(arch), torch.rand(6, 64), 3, steps=1, batch=6)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_repair_of_a_float64_or_half_network(dtype):
    """repair_backdoor's bias calibration took quantiles of float64 margins with float32 qs (a raw RuntimeError
    'quantile() q tensor must be same dtype'); half margins are not taken by quantile() at all."""
    net = build("mlp:64-8-2:relu", seed=0).to(dtype)
    r = edit.repair_backdoor(net, TASK, TRIGGER, max_rounds=1, max_examples=50)
    assert r.model.layers[0].weight.dtype == dtype
    ref = edit.repair_backdoor(build("mlp:64-8-2:relu", seed=0), TASK, TRIGGER, max_rounds=1, max_examples=50)
    assert r.report.after.accuracy == pytest.approx(ref.report.after.accuracy, abs=0.05)


def test_layout_of_a_path_or_bytes_says_it_reads_architectures(forms):
    """layout(Path) / layout(bytes) get the hint a str path gets (was "cannot find the architecture of a
    PosixPath")."""
    f, _ = forms
    for form in ("path", "bytes-path", "str-path"):
        with pytest.raises(GraphError, match=r"reads architectures, not files: give layout\(metanet.load\(path\)\)"):
            layout(f[form])


@pytest.mark.parametrize("path", ["", b"", "  "])
def test_load_of_an_empty_path_says_it_is_empty(path):
    """load('') / load_meta(''): the path is empty (was "'.': is a directory, not a file")."""
    for fn in (metanet.load, metanet.load_meta):
        with pytest.raises(FileFormatError, match="path is empty") as e:
            fn(path)
        assert "directory" not in str(e.value)


@pytest.mark.parametrize("fn", [describe, lambda g: plot(g, max_edges=50)], ids=["describe", "plot"])
def test_describe_plot_of_a_generated_holding_none_name_it(forms, fn):
    """describe / plot of a Generated whose .model is None name the Generated (was "expected a NeuralGraph
    (torch_geometric Data), got NoneType")."""
    f, _ = forms
    with pytest.raises(GraphError, match=r"Generated whose \.model is None"):
        fn(f["gen-model-none"])
