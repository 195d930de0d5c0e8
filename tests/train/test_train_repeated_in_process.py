"""``metanet train`` called again and again in one process (a notebook, a sweep script calling ``cli_main``) keeps
no more of each call than the first one kept."""

from __future__ import annotations

import gc
from pathlib import Path

from metanet.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _train(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as e:  # a usage error leaves through argparse's exit, as `metanet` itself does
        return e.code


def _parsers() -> int:
    gc.collect()
    return sum(type(o).__name__ == "MetanetArgumentParser" for o in gc.get_objects())


def test_repeated_train_calls_do_not_grow_jsonargparses_parser_cache(capsys):
    # jsonargparse caches the parser of each model / trainer class keyed by the parser's class
    # (jsonargparse._typehints._cached_class_parsers, never emptied); `metanet train` defined a new parser class on
    # every call, so every call added ~9 parsers to that cache for good, and they were never reused
    from jsonargparse import _typehints

    args = ["train", "fit", "-c", str(ROOT / "train" / "writer.yaml"), "--trainer.max_steps=x"]
    assert _train(args) == 2  # a usage error: parsed, nothing run
    cache, parsers = len(_typehints._cached_class_parsers), _parsers()
    for _ in range(3):
        assert _train(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == ("metanet train fit: error: --trainer.max_steps: expected int, got 'x' "
                       "(options: 'metanet train fit --help')")
    assert len(_typehints._cached_class_parsers) == cache
    assert _parsers() == parsers
