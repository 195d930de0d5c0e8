"""Paths no file system takes -- a NUL byte, a name over NAME_MAX (255 bytes), a path over PATH_MAX -- end in each
surface's own error class, naming the problem in a short message: they were a raw ``OSError: [Errno 36] File name
too long`` (save, Reader.load, Writer.load, read(reader=...), Zoo), a raw ``ValueError: embedded null byte`` (save),
a misleading "no such file" / "no reader checkpoint" / "not a zoo" for a NUL byte, and a 5,000-character error line.
(The CLI cases leave out NUL bytes: no command line can hold one.)"""

from __future__ import annotations

import pytest

import metanet
from metanet.errors import CheckpointError, ConfigError, FileFormatError, ZooError
from tests.process_helpers import run_cli

LONG_NAME = "a" * 5000
TOO_LONG = r"has a file name too long \((5000|300) characters; the system allows \d+ per name\)"
NUL = r"contains a NUL byte"


def _net():
    from metanet.nets import build

    return build("mlp:8-4-2")


def _saved(tmp_path):
    path = tmp_path / "net.safetensors"
    metanet.save(_net(), path, task="digits")
    return path


#: surface -> (call with the path, error class)
SURFACES = {
    "load": (lambda p, tmp: metanet.load(p), FileFormatError),
    "load_meta": (lambda p, tmp: metanet.load_meta(p), FileFormatError),
    "save": (lambda p, tmp: metanet.save(_net(), p), FileFormatError),
    "Reader.load": (lambda p, tmp: metanet.Reader.load(p), CheckpointError),
    "Writer.load": (lambda p, tmp: metanet.Writer.load(p), CheckpointError),
    "read(reader=)": (lambda p, tmp: metanet.read(_net(), reader=p), CheckpointError),
    "read(path)": (lambda p, tmp: metanet.read(p), FileFormatError),
    "verify(path)": (lambda p, tmp: metanet.verify(p, "digits"), FileFormatError),
    "Zoo": (lambda p, tmp: metanet.Zoo(p), ZooError),
    "NeuronDB.load": (lambda p, tmp: metanet.NeuronDB.load(p), FileFormatError),
}
#: the cases HEAD already handled (its own error class, naming the problem, a message of sane length): the network
#: readers named a name of 300 characters "cannot be looked up (File name too long)", and NeuronDB's too
_ALREADY_FINE = {("load", "300"), ("load_meta", "300"), ("read(path)", "300"), ("verify(path)", "300"),
                 ("NeuronDB.load", "300")}


def _path(kind: str, tmp_path) -> str:
    return {"5000": LONG_NAME, "300": str(tmp_path / ("b" * 300) / "x.safetensors"), "nul": "a\0b"}[kind]


@pytest.mark.parametrize("surface,kind", [(s, k) for s in SURFACES for k in ("5000", "300", "nul")
                                          if (s, k) not in _ALREADY_FINE])
def test_a_path_no_file_system_takes_is_the_surfaces_error(surface, kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative path is looked up here, not in the repository
    call, error = SURFACES[surface]
    with pytest.raises(error, match=NUL if kind == "nul" else TOO_LONG) as info:
        call(_path(kind, tmp_path), tmp_path)
    assert len(str(info.value)) < 300, str(info.value)[:400]  # the name is elided, not printed whole
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_path_over_path_max_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    deep = "d/" * 2100 + "net.safetensors"  # every name short, the path 4215 bytes
    with pytest.raises(FileFormatError, match=r"is too long \(4215 characters; the system allows \d+ per path\)"):
        metanet.save(_net(), deep)
    with pytest.raises(ZooError, match="is too long"):
        metanet.Zoo(deep)
    assert not any(tmp_path.iterdir())


def test_a_name_counts_its_bytes_and_up_to_255_is_taken(tmp_path):
    # the limit is in bytes: 128 'ü' are 256 of them; 127 (254 bytes) are a name the file system takes
    with pytest.raises(FileFormatError, match=r"too long \(128 characters, 256 bytes; the system allows"):
        metanet.save(_net(), tmp_path / ("ü" * 128))
    metanet.save(_net(), tmp_path / ("ü" * 127))
    assert metanet.load(tmp_path / ("ü" * 127)) is not None


#: CLI command -> argv given the path (a saved network at net.safetensors in the working directory)
COMMANDS = {
    "read FILE": lambda p: ["read", p],
    "read --reader": lambda p: ["read", "net.safetensors", "--reader", p],
    "generate --out": lambda p: ["generate", "digits", "--out", p],
    "generate --writer": lambda p: ["generate", "digits", "--writer", p, "--out", "g.safetensors"],
    "edit --out": lambda p: ["edit", "net.safetensors", "--prune", "0.1", "--out", p],
    "zoo info": lambda p: ["zoo", "info", p],
    "zoo build --out": lambda p: ["zoo", "build", "tiny", "--out", p],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_cli_says_a_too_long_name_in_one_short_line(command, tmp_path, monkeypatch, capsys):
    # HEAD: one line, exit 2, but all 5,000 characters of the name in it (or a raw traceback)
    monkeypatch.chdir(tmp_path)
    _saved(tmp_path)
    code, out, err = run_cli(COMMANDS[command](LONG_NAME), capsys)
    assert code == 2 and out == "", (code, out[:300])
    assert err.count("\n") == 1 and len(err) < 300, err[:400]
    assert err.startswith("metanet: error: ") and "file name too long (5000 characters" in err, err[:400]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.safetensors"]  # nothing written


def test_the_cli_output_checks_raise_config_error():
    from metanet.cli import out_dir, out_file

    for check in (out_file, out_dir):
        with pytest.raises(ConfigError, match=r"--out 'a\\x00b' contains a NUL byte"):
            check("a\0b")
