"""``metanet train test|predict`` with a config of a model that serves its own loaders and names no data module:
the check that the stage exists asks the model only (there is no data module to ask); a model without the stage is
still one error line. In-process, no run."""

from __future__ import annotations

import lightning as L
import pytest

from metanet.errors import ConfigError
from metanet.train import _check_stage


class OwnLoaders(L.LightningModule):
    """A user's module with its own test and predict loaders."""

    def test_step(self, batch, batch_idx):  # noqa: ANN001, ANN201 - Lightning's hook
        return None

    def predict_step(self, batch, batch_idx):  # noqa: ANN001, ANN201 - Lightning's hook
        return batch

    def test_dataloader(self):  # noqa: ANN201 - Lightning's hook
        return [0]

    def predict_dataloader(self):  # noqa: ANN201 - Lightning's hook
        return [0]


@pytest.mark.parametrize("stage", ["test", "predict"])
def test_a_model_with_the_stage_and_no_data_module_passes(stage: str) -> None:
    _check_stage(stage, OwnLoaders(), None)


def test_a_model_without_the_stage_and_no_data_module_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^'metanet train test' is not supported by LightningModule "
                                          r"\(it has no test stage\)$"):
        _check_stage("test", L.LightningModule(), None)
