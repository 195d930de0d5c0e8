"""`metanet inspect --json` names the files it wrote: "sqlite" is the database, "index" is INDEX.md."""

from __future__ import annotations

import json
import sqlite3

from metanet.cli import main
from metanet.io import save
from metanet.nets import build


def test_inspect_json_paths_are_the_files_they_name(tmp_path, capsys):
    net = save(build("mlp:64-4-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    argv = ["inspect", str(net), "--out", str(tmp_path / "o"), "--no-pictures", "--no-reader", "--max-examples", "40"]
    assert main([*argv, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["sqlite"] == str(tmp_path / "o" / "neurons.sqlite")
    assert d["index"] == str(tmp_path / "o" / "INDEX.md")
    con = sqlite3.connect(d["sqlite"])  # the database it names opens as one
    try:
        assert con.execute("SELECT COUNT(*) FROM neurons").fetchone()[0] == 4
    finally:
        con.close()
    assert open(d["index"]).read().startswith("#")
