"""bench/reader.py: a missing zoo says how to build it, undefined figures are null in strict JSON, a bootstrap without
two classes is no interval.

Every script is run only at tiny sizes and always with an output path (or ROOT) in a temporary folder, and heavy work
is stubbed: the committed results in bench/results are never touched.
"""

from __future__ import annotations

from bench_helpers import load_bench
from bench_helpers import strict_json as _strict
from bench_helpers import usage_error as _usage_error


def test_reader_missing_zoo_says_how_to_build_it(monkeypatch, tmp_path, capsys):
    mod = load_bench("reader", monkeypatch)
    missing = tmp_path / "zoos" / "backdoor-mlp"
    _usage_error(mod.main, ["--zoos", str(missing)], f"metanet zoo build backdoor-mlp --out {missing}", capsys)
    _usage_error(mod.main, ["--zoos", str(tmp_path / "elsewhere")], "elsewhere", capsys)
    _usage_error(mod.main, ["--zoos", str(tmp_path), "--reader", str(tmp_path / "r.safetensors")], "--zoos", capsys)


def test_reader_undefined_figures_are_null_in_strict_json(monkeypatch, tmp_path, tiny_zoo, capsys):
    mod = load_bench("reader", monkeypatch)
    monkeypatch.setattr(mod, "speed", lambda reader, threads, **kw: {"networks_per_minute": 1})  # not measured here
    out = tmp_path / "r.json"
    # one test network per zoo: Kendall tau and R^2 are undefined (NaN), which json.dumps wrote as NaN
    mod.main(["--zoos", str(tiny_zoo), "--max-nets", "20", "--max-test", "1", "--no-generated", "--exclude-archs",
              "--threads", "1", "--out", str(out)])
    d = _strict(out.read_text())
    assert d["pooled"]["test_networks"] == 1 and d["pooled"]["reader_tau"] is None


def test_reader_bootstrap_without_two_classes_is_no_interval(monkeypatch):
    import torch

    mod = load_bench("reader", monkeypatch)
    from metanet.reader.lightning import auroc

    one_run = mod.run_bootstrap(torch.tensor([0.1, 0.9]), torch.tensor([0.0, 1.0]), torch.tensor([3, 3]), auroc, n=5)
    assert one_run == [1.0, 1.0]
    # with one label only, no resample has an AUROC
    only_pos = mod.run_bootstrap(torch.tensor([0.1, 0.9]), torch.tensor([1.0, 1.0]), torch.tensor([1, 2]), auroc, n=5)
    assert only_pos == [None, None]  # was: IndexError from np.percentile of nothing
