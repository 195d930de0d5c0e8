"""``metanet train`` usage errors (a bad flag or value) are one error line, not jsonargparse's ~50-line usage."""

from __future__ import annotations

from pathlib import Path

import pytest

from metanet.train import cli_main

ROOT = Path(__file__).resolve().parents[2]
LOOP = str(ROOT / "train" / "loop.yaml")


def _usage_error(args: list[str], capsys, debug: bool = False) -> list[str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli_main(args, debug=debug)
    assert e.value.code == 2, args
    captured = capsys.readouterr()
    assert not captured.out.strip(), captured.out
    return [line for line in captured.err.strip().splitlines() if not line.startswith("INFO: ")]


@pytest.mark.parametrize("flag, needles", [
    ("--trainer.bogus=1", ["unrecognized arguments: --trainer.bogus=1"]),
    ("--trainer.max_epochs=abc", ["--trainer.max_epochs", "expected int", "'abc'"]),
    ("--seed_everything=abc", ["--seed_everything", "expected bool or int", "'abc'"]),
    ("--model.init_args.hidden=x", ["--model.init_args.hidden", "expected int", "'x'",
                                    "metanet.loop.lightning.LoopModule"]),
    ("--model.init_args.nope=1", ["--model", "option 'nope' is not accepted"]),
    ("--trainer.logger.init_args.bogus=1", ["--trainer.logger", "option 'bogus' is not accepted"]),
    ("--model=NoSuchModule", ["--model", "NoSuchModule"]),
    ("--trainer.max_epochs", ["--trainer.max_epochs: expected one argument"]),
])
def test_a_bad_flag_or_value_is_a_short_error(flag, needles, capsys):
    # jsonargparse printed the whole usage of `fit` (~50 lines), a tip, then a multi-line error
    err = _usage_error(["fit", "-c", LOOP, flag], capsys)
    assert len(err) == 1, err
    assert err[0].startswith("metanet train fit: error: "), err
    for needle in needles:
        assert needle in err[0], (needle, err)
    assert "Subtypes" not in err[0] and "<class" not in err[0] and "NestedArg" not in err[0]
    assert err[0].endswith(" (options: 'metanet train fit --help')"), err


def test_subcommand_errors_are_short_too(capsys):
    err = _usage_error(["fitt"], capsys)
    assert len(err) == 1 and err[0].startswith("metanet train: error: ") and "'fitt'" in err[0], err
    assert err[0].endswith(" (options: 'metanet train --help')"), err
    err = _usage_error([], capsys)
    assert len(err) == 1 and "subcommand" in err[0], err


def test_help_is_still_the_full_help(capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["fit", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: metanet train") and "--trainer.max_epochs" in out and out.count("\n") > 50


def test_debug_keeps_jsonargparses_full_error(capsys):
    err = _usage_error(["fit", "-c", LOOP, "--trainer.max_epochs=abc"], capsys, debug=True)
    assert err[0].startswith("usage: metanet train") and len(err) > 10


def test_the_metanet_cli_exits_2_with_the_short_error(capsys):
    from metanet.cli import main

    with pytest.raises(SystemExit) as e:
        main(["train", "fit", "-c", LOOP, "--trainer.bogus=1"])
    assert e.value.code == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("INFO: ")]
    assert len(err) == 1 and "--trainer.bogus=1" in err[0], err
