"""`metanet.generate` as a PyTorch user calls it: global state left alone, numpy/torch integers, modules as ``arch``,
architectures that do not fit, `verify` a bool, the saved file's metadata (naming the writer that wrote it, enough
to write the network again) and the report's JSON round trip (the CLI's JSON, malformed fields named)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from torch import nn

import metanet
from metanet.checkpoints import shipped
from metanet.errors import ArchError, FileFormatError, TaskError
from metanet.nets import build
from metanet.writer import GenerationReport, Writer, generate


def _equal(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_generate_leaves_the_global_torch_state_as_it_found_it(untrained, digits):
    """Building the candidate modules drew their (overwritten) default init from torch's global RNG: a library call
    changed the caller's random stream."""
    torch.manual_seed(123)
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    generate(digits, arch="mlp:64-16-16-10:relu", candidates=3, shots=20, writer=untrained)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads and torch.get_default_dtype() == torch.float32
    assert torch.is_grad_enabled()
    generate(digits, candidates=2, shots=20, verify=False, writer=untrained)
    assert torch.equal(torch.get_rng_state(), state)


def test_float64_default_dtype_writes_the_same_float32_network(untrained, digits):
    """Under torch.set_default_dtype(torch.float64) generate and Writer.write failed with 'expected scalar type Float
    but found Double' (the seeded starting weights came out float64)."""
    want = generate(digits, arch="mlp:64-16-16-10:relu", candidates=2, shots=20, writer=untrained)
    x, y = digits.split("train")
    with torch.no_grad():
        ref = untrained.write("mlp:64-16-10:relu", x[:200], y[:200], 10, candidates=2, seed=1)
    torch.set_default_dtype(torch.float64)
    try:
        got = generate(digits, arch="mlp:64-16-16-10:relu", candidates=2, shots=20, writer=untrained)
        with torch.no_grad():
            params = untrained.write("mlp:64-16-10:relu", x[:200], y[:200], 10, candidates=2, seed=1)
        assert torch.get_default_dtype() == torch.float64  # restored
    finally:
        torch.set_default_dtype(torch.float32)
    assert {p.dtype for p in got.model.parameters()} == {torch.float32}
    assert _equal(got.model, want.model) and got.report.test.accuracy == want.report.test.accuracy
    assert all(torch.equal(params[k], ref[k]) for k in ref)


def test_numpy_and_torch_integers_are_integers(untrained, digits):
    """candidates=np.int64(2) and shots=np.int64(20) were 'must be an integer' TaskErrors (seed took them)."""
    want = generate(digits, candidates=2, shots=20, seed=3, writer=untrained)
    got = generate(digits, candidates=np.int64(2), shots=np.int64(20), seed=torch.tensor(3), writer=untrained)
    assert len(got.candidates) == 2 and got.report.support == want.report.support == 200
    assert all(_equal(a, b) for a, b in zip(got.candidates, want.candidates))
    assert type(got.report.seed) is int and type(got.report.shots) is int  # plain ints: the report goes to JSON
    for kw in ({"candidates": 2.0}, {"shots": True}, {"seed": np.float64(3)}, {"candidates": np.bool_(True)}):
        with pytest.raises(TaskError, match="must be"):
            generate(digits, writer=untrained, **kw)


def test_arch_may_be_a_metanet_module_and_a_sequential_is_a_clear_error(untrained, digits):
    """A metanet MLP/CNN given as arch was 'an architecture mapping is expected, got MLP'."""
    a = generate(digits, arch=build("mlp:64-16-10:tanh"), candidates=2, shots=20, writer=untrained)
    b = generate(digits, arch="mlp:64-16-10:tanh", candidates=2, shots=20, writer=untrained)
    assert a.report.arch == "mlp:64-16-10:tanh" and _equal(a.model, b.model)
    c = generate(digits, arch=build("cnn:1-4-10:relu:k3:s2"), candidates=1, shots=20, writer=untrained)
    assert c.report.arch == "cnn:1-4-10:relu:k3:s2"
    seq = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.GELU(), nn.Linear(32, 10))
    with pytest.raises(ArchError, match=r"not a Sequential.*arch='mlp:64-32-10:gelu'"):
        generate(digits, arch=seq, writer=untrained)
    with pytest.raises(ArchError, match="arch must be an Arch, its string"):
        generate(digits, arch=64, writer=untrained)


@pytest.mark.parametrize("arch, message", [
    ("mlp:784-32-10:relu", r"does not fit task 'digits': it takes 784 input features.*e\.g\. mlp:64-32-10:relu$"),
    ("mlp:64-32-5:relu", r"has 5 outputs but task 'digits' has 10 classes; e\.g\. mlp:64-32-10:relu$"),
    ("cnn:3-8-5:relu:k5:s1", r"3-channel images.*e\.g\. cnn:1-8-10:relu:k5:s1$"),
])
def test_an_arch_that_does_not_fit_the_task_names_the_task_and_one_that_fits(untrained, arch, message):
    """The error spoke of 'support inputs' (the writer's view) and named no architecture that would fit."""
    with pytest.raises(ArchError, match=message):
        generate("digits", arch=arch, writer=untrained)


def test_saved_metadata_is_strict_json_and_writes_the_network_again(untrained, digits, tmp_path):
    """generate(verify=False).save wrote 'NaN' into the header (not JSON); the file named neither the candidate nor
    the seed, shots and K that write it again."""
    g = generate(digits, arch="mlp:64-16-16-10:relu", candidates=3, seed=5, shots=20, verify=False,
                 writer=untrained)
    path = g.save(tmp_path / "net.safetensors")
    raw = path.read_bytes()
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])["__metadata__"]["metanet.meta"]

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    meta = json.loads(header, parse_constant=refuse)
    assert meta == metanet.load_meta(path)
    assert meta["val_accuracy"] is None and meta["test_accuracy"] is None
    assert (meta["arch"], meta["candidate"], meta["candidates"], meta["seed"], meta["shots"]) == (
        "mlp:64-16-16-10:relu", 0, 3, 5, 20)
    again = generate(meta["task"], arch=meta["arch"], candidates=meta["candidates"], seed=meta["seed"],
                     shots=meta["shots"], verify=False, writer=untrained)
    assert _equal(again.candidates[meta["candidate"]], metanet.load(path))


def test_report_round_trips_through_strict_json(untrained, digits):
    """There was no way back from to_dict(): GenerationReport(**d) kept `test` a dict (str() failed)."""
    from metanet.io import json_safe

    g = generate(digits, candidates=2, shots=20, writer=untrained)
    text = json.dumps(json_safe(g.report.to_dict()), allow_nan=False)
    back = GenerationReport.from_dict(json.loads(text))
    assert back == g.report and str(back) == str(g.report)
    u = generate(digits, candidates=2, shots=20, verify=False, writer=untrained).report
    back = GenerationReport.from_dict(json.loads(json.dumps(json_safe(u.to_dict()), allow_nan=False)))
    assert str(back) == str(u) and "not verified" in str(back)


_REPORT = dict(task="digits", arch="mlp:64-8-10:relu", support=50, candidates=[{"val_accuracy": 0.5, "val_loss": 1.0}],
               chosen=0, test=None, seconds=1.0, seconds_write=0.5)


@pytest.mark.parametrize("bad, what", [
    ({"candidates": [0.5]}, "candidates must be a non-empty list"),  # was AttributeError: 'float' ... 'items'
    ({"candidates": None}, "candidates must be a non-empty list"),  # was TypeError: not iterable
    ({"candidates": [{"val_accuracy": 0.5}]}, "candidates must be a non-empty list"),  # KeyError in str()
    ({"candidates": []}, "candidates must be a non-empty list"),
    ({"chosen": 3}, r"chosen candidate must be an index 0\.\.0, got 3"),  # IndexError in Generated.save
    ({"chosen": "0"}, "chosen candidate must be an index"),
    ({"test": [1, 2]}, "test score is not a Report"),  # AttributeError in str()
    ({"test": {"accuracy": 0.5, "loss": 1.0, "per_class": None, "n": 3, "seconds": 0.1}}, "test score is not a Report"),
])
def test_report_from_dict_names_malformed_fields(bad, what):
    from metanet.errors import FileFormatError
    from metanet.writer import GenerationReport

    assert str(GenerationReport.from_dict(_REPORT)).startswith("task digits")
    with pytest.raises(FileFormatError, match=what):
        str(GenerationReport.from_dict({**_REPORT, **bad}))


KW = dict(arch="mlp:64-8-10:relu", candidates=2, shots=10)


@pytest.mark.parametrize("value", ["no", "False", None, 0, 1])
def test_verify_must_be_a_bool(digits, untrained, value):
    """verify='no' is truthy: it verified and chose among the candidates, silently."""
    with pytest.raises(TaskError, match="verify must be True or False"):
        generate(digits, verify=value, writer=untrained, **KW)


def test_verify_takes_numpy_bools(digits, untrained):
    assert generate(digits, verify=np.False_, writer=untrained, **KW).report.test is None
    assert generate(digits, verify=np.True_, writer=untrained, **KW).report.test is not None


def test_report_from_dict_reads_the_cli_json_and_names_what_is_missing(digits, untrained):
    from metanet.io import json_safe

    g = generate(digits, writer=untrained, **KW)
    d = json.loads(json.dumps({**json_safe(g.report.to_dict()), "out": "/tmp/net.safetensors"}))  # `--json --out`
    assert GenerationReport.from_dict(d) == g.report  # was a TypeError: unexpected keyword argument 'out'
    with pytest.raises(FileFormatError, match="missing arch, candidates, chosen"):
        GenerationReport.from_dict({"task": "digits"})
    with pytest.raises(FileFormatError, match="is a mapping .* got list"):
        GenerationReport.from_dict([])
    with pytest.raises(FileFormatError, match="test score is not a Report"):
        GenerationReport.from_dict({**d, "test": {"accuracy": 1.0}})


def test_generate_ignores_torch_default_device(digits, untrained):
    ref = generate(digits, writer=untrained, **KW)
    torch.set_default_device("meta")  # was an IndexError from the support set's draws on the meta device
    try:
        g = generate(digits, writer=untrained, **KW)
    finally:
        torch.set_default_device(None)
    assert g.report.chosen == ref.report.chosen and g.report.candidates == ref.report.candidates
    assert all(v.device.type == "cpu" and v.equal(ref.model.state_dict()[k]) for k, v in g.model.state_dict().items())


def _again(meta: dict) -> torch.nn.Module:
    """The network that metadata describes, written again from the metadata alone (Generated.save's recipe)."""
    g = generate(meta["task"], arch=meta["arch"], candidates=meta["candidates"], seed=meta["seed"],
                 shots=meta["shots"], writer=meta["writer"].get("path"), verify=False)
    return g.candidates[meta["candidate"]]


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_network_saved_with_the_shipped_writer_is_written_again_from_its_metadata(tmp_path):
    # the header said task, arch, seed, shots, candidate, but not which writer: a custom writer's network could not
    # be told from the shipped one's, nor reproduced
    g = generate("digits[3,8]", candidates=3, shots=10, seed=5)
    meta = metanet.load_meta(g.save(tmp_path / "net 1.safetensors"))
    want = hashlib.sha256(shipped("writer").read_bytes()).hexdigest()
    assert meta["writer"]["source"] == "shipped" and meta["writer"]["sha256"] == want
    assert "path" not in meta["writer"]  # the installed package's location is not part of its identity
    assert _same(_again(meta), metanet.load(tmp_path / "net 1.safetensors"))
    assert f"written by the shipped writer (sha256 {want[:12]})" in str(g.report)


def test_a_custom_writer_is_named_by_its_file_or_as_in_memory(tmp_path, trained):
    w = Writer.load()
    with torch.no_grad():
        w.log_temp.add_(0.25)  # changed after loading: no longer the shipped writer
    g = generate("digits[3,8]", candidates=2, shots=10, writer=w)
    assert g.report.writer["source"] == "in-memory" and "sha256" not in g.report.writer
    assert g.report.writer["state_sha256"] != trained.identity()["state_sha256"]
    assert "an in-memory writer (no file holds it)" in str(g.report)
    path = w.save(tmp_path / "my writer.safetensors")
    for given in (str(path), Writer.load(path)):  # the path (generate's writer=) or the loaded writer (the CLI)
        g = generate("digits[3,8]", candidates=2, shots=10, writer=given)
        ident = g.report.writer
        assert ident["source"] == "file" and ident["path"] == str(path.resolve())
        assert ident["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert ident["state_sha256"] == w.identity()["state_sha256"]
        meta = metanet.load_meta(g.save(tmp_path / "net.safetensors"))
        assert _same(_again(meta), g.model)


def test_the_writer_survives_the_report_round_trip_and_old_reports_still_read():
    g = generate("digits[3,8]", candidates=1, shots=5, verify=False)
    d = json.loads(json.dumps(metanet.io.json_safe(g.report.to_dict())))
    back = GenerationReport.from_dict(d)
    assert back.writer == g.report.writer and str(back) == str(g.report)
    del d["writer"]  # a report written before the writer was recorded
    assert GenerationReport.from_dict(d).writer is None
    d["writer"] = "shipped"
    with pytest.raises(metanet.errors.FileFormatError, match="writer is a mapping"):
        GenerationReport.from_dict(d)


@pytest.mark.parametrize("empty", ["", "  ", b""])
def test_an_empty_writer_path_is_named_not_taken_for_the_current_directory(empty):
    # Path("") is "." : the error said ". is a directory" (the CLI refuses --writer '' itself; Python did not)
    with pytest.raises(metanet.errors.CheckpointError, match="writer checkpoint path is empty"):
        generate("digits[3,8]", candidates=1, writer=empty)
