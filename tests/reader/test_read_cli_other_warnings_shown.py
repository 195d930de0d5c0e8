"""``metanet read FILE``: a warning raised while reading that is not one of read()'s own (which its result carries,
prefixed 'metanet.read: ') is displayed as Python displays it, with and without --json (e.g. a --reader checkpoint
whose trigger-scan head is not fitted): only read()'s own are shown once by the CLI; hiding the others hid them."""

from __future__ import annotations

import sys
import warnings

import pytest

import metanet
import metanet.reader.predict as predict
from metanet.cli import main
from metanet.nets import build

OTHER = "reader.ckpt: this Lightning checkpoint's trigger-scan head is not fitted"


@pytest.mark.parametrize("json", [False, True], ids=["report", "json"])
def test_another_warning_while_reading_is_displayed_as_python_does(tmp_path, monkeypatch, capsys, json) -> None:
    path = metanet.save(build("mlp:64-16-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    read = predict.read

    def warning_read(*args, **kwargs):
        warnings.warn(OTHER, UserWarning)
        return read(*args, **kwargs)

    def show(message, category, filename, lineno, file=None, line=None):  # Python's own display, to stderr
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    monkeypatch.setattr(predict, "read", warning_read)
    monkeypatch.setattr(warnings, "showwarning", show)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["read", str(path), "--no-scan", *(["--json"] if json else [])]) == 0
    err = capsys.readouterr().err
    assert f"UserWarning: {OTHER}" in err
    assert "metanet: warning: " not in err  # not shown as one of read()'s own
