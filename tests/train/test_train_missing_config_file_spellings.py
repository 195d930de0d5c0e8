"""``metanet train fit --config train/writer.yaml`` (the long option with its value as the next argument) from where
there is no ``train/`` folder (a ``pip install``) is the same one ConfigError line, with the hint that the configs
are files of the repository, as ``-c FILE`` and ``--config=FILE``: checked in-process, no run."""

from __future__ import annotations

from pathlib import Path

import pytest

from metanet.errors import ConfigError
from metanet.train import _check_configs


@pytest.mark.parametrize("spelt", [["-c", "train/writer.yaml"], ["--config", "train/writer.yaml"],
                                   ["--config=train/writer.yaml"]])
def test_a_missing_stage_config_is_a_config_error_in_each_spelling(spelt: list[str], tmp_path: Path,
                                                                     monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^config file train/writer\.yaml not found .*files of the metanet "
                                          r"repository"):
        _check_configs(["fit", *spelt])


def test_a_present_config_in_the_long_spelling_is_left_to_jsonargparse(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("seed_everything: 0\n")
    _check_configs(["fit", "--config", "mine.yaml"])
    with pytest.raises(ConfigError, match=r"^config file other\.yaml not found \(in "):
        _check_configs(["fit", "--config", "mine.yaml", "--config", "other.yaml"])
