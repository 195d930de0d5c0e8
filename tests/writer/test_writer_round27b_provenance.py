"""generate round 27b: a saved network's metadata names the writer that wrote it, enough to write it again."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

import metanet
from metanet.checkpoints import shipped
from metanet.writer import Writer, generate
from metanet.writer.generate import GenerationReport


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
