"""``metanet read FILE`` shows read()'s warnings that its result also carries (``unlike_training``,
``out_of_range``) once: as the report's WARNING line without --json, as one ``metanet: warning: ...`` line on stderr
with --json. Python's own display added them on stderr as ``.../__main__.py:5: UserWarning: metanet.read: ...`` plus
the source line ``sys.exit(main())``."""

from __future__ import annotations

import sys
import warnings

import pytest
import torch

import metanet
from metanet.cli import main
from metanet.nets import build


def _x10(tmp_path):
    net = build("mlp:64-16-10:relu", seed=0)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(10)  # unlike_training: 54 standard deviations out
    return metanet.save(net, tmp_path / "x10.safetensors", task="digits")


def _run(argv, monkeypatch, capsys):
    # pytest records warnings instead of displaying them: display them as Python does outside it (formatted,
    # written to stderr), so that what a user's terminal shows is what capsys sees
    def show(message, category, filename, lineno, file=None, line=None):  # Python's own showwarning, to stderr
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    monkeypatch.setattr(warnings, "showwarning", show)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(argv) == 0
    return capsys.readouterr()


def test_read_cli_report_shows_the_warning_once_on_stdout_only(tmp_path, monkeypatch, capsys):
    out = _run(["read", str(_x10(tmp_path)), "--no-scan"], monkeypatch, capsys)
    assert out.out.count("standard deviations") == 1 and "  WARNING    its last layer" in out.out
    assert "standard deviations" not in out.err and "metanet.read" not in out.err  # (other libraries' may be there)


@pytest.mark.parametrize("net", ["x10", "outputs12"])
def test_read_cli_json_shows_the_warning_as_one_stderr_line(tmp_path, monkeypatch, capsys, net):
    path = _x10(tmp_path) if net == "x10" else metanet.save(build("mlp:64-16-12:relu", seed=0),
                                                           tmp_path / "twelve.safetensors")
    key = "unlike_training" if net == "x10" else "out_of_range"
    out = _run(["read", str(path), "--no-scan", "--json"], monkeypatch, capsys)
    import json

    said = json.loads(out.out)[key]
    assert [line for line in out.err.splitlines() if said[:40] in line or "metanet.read" in line] == \
        [f"metanet: warning: {said}"]
    assert "sys.exit(main())" not in out.err


def test_read_warnings_are_still_warnings_under_the_cli(tmp_path):
    before = warnings.formatwarning
    with pytest.warns(UserWarning, match="metanet.read: its last layer"):
        assert main(["read", str(_x10(tmp_path)), "--no-scan", "--json"]) == 0
    assert warnings.formatwarning is before  # put back after the command
