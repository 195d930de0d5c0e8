"""``metanet.train.cli_main`` called in a user's process leaves that process's warning filters as they were: the
filters hiding Lightning's and jsonargparse's own noise hold for the call only."""

import contextlib
import io
import warnings

import pytest

import metanet.train


@pytest.mark.parametrize("argv", [["--help"], ["fit", "--help"]])
def test_cli_main_restores_the_callers_warning_filters(argv: list[str]) -> None:
    before = list(warnings.filters)
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit):
        metanet.train.cli_main(argv)
    assert warnings.filters == before
