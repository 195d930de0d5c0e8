"""Fuzz: random argv for every ``metanet`` subcommand, run in-process through :func:`metanet.cli.main`.

Whatever the arguments, the command exits 0 (it worked, or printed help) or 2 (argparse, or a MetanetError as one
``metanet: error: ...`` line), never with a traceback; ``metanet zoo check`` may also exit 1 (problems found).
Values are drawn so that most commands fail fast; the few valid combinations run on the small ``digits`` task.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fuzz_helpers import fuzz_settings
from process_helpers import run_cli
from hypothesis import example, given
from hypothesis import strategies as st

from metanet.cli import main

FLAGS = {
    "tasks": ["--json"],
    "verify": ["--task", "--split", "--json"],
    "graph": ["--plot", "--dpi", "--json"],
    "read": ["--reader", "--json"],
    "generate": ["--arch", "--candidates", "--seed", "--shots", "--writer", "--out", "--json"],
    "refine": ["--task", "--method", "--steps", "--population", "--sigma", "--lr", "--split", "--seed", "--threads",
               "--out"],
    "improve": ["--rounds", "--method", "--candidates", "--keep", "--lr", "--reward", "--heldout", "--writer", "--out",
                "--log-dir", "--seed", "--threads", "--json"],
    "inspect": ["--task", "--out", "--split", "--tensorboard", "--no-pictures", "--no-reader", "--max-examples",
                "--json"],
    "edit": ["--task", "--out", "--split", "--remove", "--scale", "--clamp", "--prune", "--prune-method", "--prune-scope",
             "--precision", "--repair-backdoor", "--trigger", "--blind", "--max-asr", "--max-drop", "--json"],
    "zoo build": ["--out", "--shard", "--limit", "--backend", "--workers", "--threads", "--no-progress"],
    "zoo check": ["--json"],
    "zoo info": ["--json"],
    "zoo merge": [],
}
POSITIONAL = {"verify": 1, "graph": 1, "read": 1, "generate": 1, "refine": 1, "improve": 1, "inspect": 1, "edit": 1,
              "zoo build": 1, "zoo check": 1, "zoo info": 1, "zoo merge": 2}
# values that exercise the parsers and checks behind each flag
VALUES = [
    "digits", "digits[3,8]", "nope", "mnist1d[0-4", "-1", "0", "1", "2", "3", "1.5", "nan", "inf", "-0.5", "", " ",
    "mlp:64-8-10:relu", "mlp:3-2", "cnn:1-4-10", "mlp:64-0-10", "1:0,3", "1:99", "1:2=0.5", "1:1=nan", "2:0", "x:y",
    "bf16", "1:int8", "fp8", "magnitude", "necessity", "global", "layer", "expert", "pg", "accuracy+size(0.05)",
    "accuracy+", '{"size": 2, "target": 1}', "{", "[]", "train", "val", "test", "perturbation", "sgd", "1/2", "3/2",
    "0/0", "ray", "local", "tiny-nonexistent", "\x00", "é", "--", "-h",
]


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory, digits_net, fuzz_zoo):
    d = tmp_path_factory.mktemp("cli")
    noise = d / "noise.safetensors"
    noise.write_bytes(bytes(range(256)) * 3)
    trunc = d / "trunc.safetensors"
    trunc.write_bytes(digits_net.read_bytes()[:200])
    bad_zoo = d / "badzoo"
    shutil.copytree(fuzz_zoo, bad_zoo)
    shard = sorted((bad_zoo / "shards").glob("*.safetensors"))[0]
    shard.write_bytes(shard.read_bytes()[:-40])
    not_zoo = d / "notzoo"
    not_zoo.mkdir()
    (not_zoo / "index.sqlite").write_bytes(b"not sqlite at all" * 10)
    recipe = d / "bad.yaml"
    recipe.write_text("count: -1\ntasks: [digits]\n")
    return {
        "files": [str(digits_net), str(noise), str(trunc), str(d / "missing.safetensors"), str(d)],
        "zoos": [str(fuzz_zoo), str(bad_zoo), str(not_zoo), str(d / "nozoo")],
        "recipes": [str(recipe), "nonexistent-recipe", str(noise)],
        "out": d / "out",
    }


@st.composite
def argvs(draw, files: dict) -> list[str]:
    cmd = draw(st.sampled_from(sorted(FLAGS)))
    argv = cmd.split()
    pos = []
    for _ in range(POSITIONAL.get(cmd, 0)):
        if cmd in ("zoo check", "zoo info"):
            pos.append(draw(st.sampled_from(files["zoos"])))
        elif cmd == "zoo merge":
            pos.append(str(files["out"] / draw(st.sampled_from(["m1", "m2"]))) if not pos
                       else draw(st.sampled_from(files["zoos"])))
        elif cmd == "zoo build":
            pos.append(draw(st.sampled_from(files["recipes"])))
        elif cmd in ("generate", "improve"):
            pos.append(draw(st.sampled_from(["nope", "digits[3]", "a network that can read nothing", "digits",
                                             "mnist[3,8]+permute(", ""])))
        else:
            pos.append(draw(st.sampled_from(files["files"])))
    if draw(st.integers(0, 9)) == 0:  # sometimes drop or add a positional
        pos = pos[:-1] if pos and draw(st.booleans()) else pos + [draw(st.sampled_from(VALUES))]
    argv += pos
    for _ in range(draw(st.integers(0, 4))):
        flag = draw(st.sampled_from(FLAGS[cmd] + ["--bogus", "--debug"] if FLAGS[cmd] else ["--bogus", "-x"]))
        argv.append(flag)
        if flag in ("--out", "--plot", "--log-dir", "--tensorboard"):
            argv.append(str(files["out"] / draw(st.sampled_from(["a.safetensors", "b", "c.png", "d/e.safetensors"]))))
        elif flag in ("--writer", "--reader"):
            argv.append(draw(st.sampled_from(files["files"])))
        elif draw(st.integers(0, 4)):
            argv.append(draw(st.sampled_from(VALUES) | st.text(max_size=6)))
    if "--debug" in argv:  # --debug belongs before the subcommand; after it argparse refuses it (exit 2)
        argv.remove("--debug")
    # commands that would do real work with a valid task: keep them small
    if cmd in ("generate", "refine", "improve", "inspect"):
        for flag, cap in (("--candidates", "2"), ("--steps", "2"), ("--population", "2"), ("--rounds", "1"),
                          ("--max-examples", "40")):
            argv += [flag, cap] if flag in FLAGS[cmd] and flag not in argv else []
        for i, a in enumerate(argv[:-1]):
            if a in ("--candidates", "--steps", "--population", "--rounds", "--shots", "--max-examples", "--keep") and \
                    argv[i + 1].lstrip("-").isdigit() and abs(int(argv[i + 1])) > 3:
                argv[i + 1] = "2"
    if cmd == "inspect" and "--no-pictures" not in argv:
        argv.append("--no-pictures")
    if cmd == "improve" and "digits" in argv and "--heldout" not in argv:
        argv += ["--candidates", "2"]
    return argv


def _run(argv: list[str], capsys) -> int:
    code, out, err = run_cli(argv, capsys)
    assert "Traceback" not in err and "Traceback" not in out, err[-2000:]
    if code == 2 and err.startswith("metanet: error:"):
        assert len(err.strip().splitlines()) == 1, err  # one line naming the problem
    return code


@fuzz_settings(100)
@given(data=st.data())
@example(data=None)
def test_random_argv(cli_files, capsys, monkeypatch, data):
    monkeypatch.chdir(cli_files["out"].parent)  # anything a relative path writes stays in the tmp dir
    cli_files["out"].mkdir(exist_ok=True)
    if data is None:  # explicit cases: each subcommand's most likely mistakes
        f = cli_files["files"]
        cases = [
            ["verify", f[1], "--task", "digits"], ["verify", f[0], "--task", "nope"], ["verify", f[2], "--task", "digits"],
            ["graph", f[1]], ["graph", f[0], "--plot", str(cli_files["out"] / "g.png"), "--dpi", "0"],
            ["read", f[1]], ["read", f[0], "--reader", f[1]],
            ["generate", "nope"], ["generate", "digits", "--arch", "mlp:3-2", "--candidates", "1"],
            ["generate", "digits", "--candidates", "0"], ["generate", "digits", "--writer", f[1]],
            ["refine", f[1], "--task", "digits"], ["refine", f[0], "--task", "digits", "--steps", "-1"],
            ["refine", f[0], "--task", "digits", "--sigma", "nan", "--steps", "1"],
            ["improve", "nope", "--rounds", "1"], ["improve", "digits", "--rounds", "1", "--reward", "accuracy+"],
            ["inspect", f[1], "--task", "digits", "--out", str(cli_files["out"] / "i")],
            ["inspect", f[0], "--out", str(cli_files["out"] / "i2"), "--max-examples", "0", "--no-pictures"],
            ["edit", f[0], "--task", "digits", "--out", str(cli_files["out"] / "e.safetensors"), "--remove", "1:99"],
            ["edit", f[0], "--task", "digits", "--out", str(cli_files["out"] / "e.safetensors"), "--prune", "1.5"],
            ["edit", f[0], "--task", "digits", "--out", str(cli_files["out"] / "e.safetensors"), "--precision", "fp8"],
            ["edit", f[0], "--task", "digits", "--out", str(cli_files["out"] / "e.safetensors"), "--scale", "1:2=nan"],
            ["edit", f[0], "--task", "digits", "--out", str(cli_files["out"] / "e.safetensors"), "--repair-backdoor",
             "--trigger", "{"],
            ["edit", f[0], "--task", "digits", "--out", str(cli_files["out"] / "e.safetensors")],
            ["zoo", "check", cli_files["zoos"][2]], ["zoo", "info", cli_files["zoos"][3]],
            ["zoo", "check", cli_files["zoos"][1]], ["zoo", "info", cli_files["zoos"][1]],
            ["zoo", "build", cli_files["recipes"][0], "--out", str(cli_files["out"] / "z")],
            ["zoo", "build", cli_files["recipes"][2], "--out", str(cli_files["out"] / "z")],
            ["zoo", "build", "nonexistent", "--out", str(cli_files["out"] / "z"), "--shard", "3/2"],
            ["zoo", "merge", str(cli_files["out"] / "m"), cli_files["zoos"][2]],
            ["zoo"], ["tasks", "--bogus"], ["--bogus"], [],
        ]
        for argv in cases:
            code = _run(argv, capsys)
            ok = {0, 1, 2} if argv[:2] == ["zoo", "check"] else {0, 2}
            assert code in ok, (argv, code)
        return
    argv = data.draw(argvs(cli_files))
    code = _run(argv, capsys)
    ok = {0, 1, 2} if argv[:2] == ["zoo", "check"] else {0, 2}
    assert code in ok, (argv, code)


def test_debug_shows_the_traceback(cli_files, capsys):
    from metanet.errors import FileFormatError

    with pytest.raises(FileFormatError):
        main(["--debug", "verify", cli_files["files"][1], "--task", "digits"])
    assert main(["verify", cli_files["files"][1], "--task", "digits"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_no_stray_files_outside_tmp(cli_files):
    """The CLI fuzz wrote only below its tmp dir (and no half-written temporary files anywhere there)."""
    leftovers = [p for p in Path(cli_files["out"]).rglob(".*.tmp")]
    assert leftovers == []
    assert not any(Path(os.getcwd()).glob(".*.safetensors.*.tmp"))
