"""A path starting with the home folder of a user this machine does not have (``~nouser/z``), or with a ``~name``
holding a NUL byte: pathlib's expanduser raised a raw ``RuntimeError: Could not determine home directory.`` (every
path argument: save, load, Zoo, build, the CLI's ``zoo info`` traceback) and pwd a raw ``ValueError: embedded null
byte``; the CLI's ``--out`` check let ``~nouser/...`` through, so the RuntimeError came only once the work was done.
Now each surface's own error, naming the ``~name``; a real ``~`` and ``~user`` still expand."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

import metanet
from metanet.cli import out_dir, out_file
from metanet.errors import ConfigError, FileFormatError, ZooError
from tests.process_helpers import run_cli

NOUSER = "~metanet-no-such-user-7f3a"
NO_USER = r"starts with '~metanet-no-such-user-7f3a', but this machine has no user 'metanet-no-such-user-7f3a'"


def _missing_user() -> None:
    try:
        pwd.getpwnam(NOUSER[1:])
    except KeyError:
        return
    pytest.skip(f"a user {NOUSER[1:]} exists here")


def test_home_of_no_user_is_each_surfaces_error() -> None:
    _missing_user()
    with pytest.raises(FileFormatError, match=NO_USER):
        metanet.load(f"{NOUSER}/net.safetensors")
    with pytest.raises(ZooError, match=NO_USER):
        metanet.Zoo(f"{NOUSER}/zoo")
    for check in (out_file, out_dir):  # refused before the work, not where the result is written
        with pytest.raises(ConfigError, match="--out '~metanet-no-such-user-7f3a/x' " + NO_USER):
            check(f"{NOUSER}/x")


def test_nul_in_a_home_name_is_the_nul_message() -> None:
    for call, cls in ((lambda: metanet.load("~a\0b/net.safetensors"), FileFormatError),
                      (lambda: metanet.Zoo("~a\0b"), ZooError), (lambda: out_file("~a\0b/x"), ConfigError),
                      (lambda: out_dir("~a\0b"), ConfigError)):
        with pytest.raises(cls, match=r"contains a NUL byte"):
            call()


def test_cli_names_the_home_of_no_user_on_one_line(capsys) -> None:
    _missing_user()
    code, _, err = run_cli(["zoo", "info", f"{NOUSER}/zoo"], capsys)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "this machine has no user 'metanet-no-such-user-7f3a'" in err, err


def test_tilde_without_home_is_named(monkeypatch) -> None:
    monkeypatch.delenv("HOME", raising=False)

    def no_entry(uid: int):
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    with pytest.raises(ZooError, match=r"starts with '~', but your user has no home folder and \$HOME is not set"):
        metanet.Zoo("~/zoo")


def test_real_homes_still_expand(tmp_path: Path, monkeypatch) -> None:
    from metanet.io import _path

    monkeypatch.setenv("HOME", str(tmp_path))
    assert _path("~/n.safetensors") == tmp_path / "n.safetensors"
    me = pwd.getpwuid(os.getuid())
    assert _path(f"~{me.pw_name}/n.safetensors") == Path(me.pw_dir) / "n.safetensors"
    assert out_file("~/x.safetensors") == tmp_path / "x.safetensors"
    assert _path("a~b/~c") == Path("a~b/~c")  # a '~' inside a path is a plain character
