"""``metanet train fit -c CONFIG --model.class_path=Mine --ckpt_path FILE`` with a checkpoint written by plain Lightning
(``L.Trainer().fit(Mine(...))``) of a user's subclass of a stage module whose ``__init__`` takes fewer options than
its base's: Lightning saves the arguments of every ``__init__`` in the chain, so the base's options the subclass
passed on (``lr``, ``ridge_lambda``, ...) are in the hyperparameters too, and the checkpoint was refused as "not
options of the config's model". They are the subclass's to give its base again: it resumes into the subclass."""

from __future__ import annotations

import pytest

from metanet.errors import ConfigError
from metanet.train import _plain_ckpt_model
from metanet.writer.lightning import WriterModule


class NarrowWriter(WriterModule):
    """A subclass that fixes the base's lr and takes an option of its own."""

    def __init__(self, hidden: int = 8, message: int = 4, flavour: str = "x") -> None:
        super().__init__(hidden=hidden, message=message, lr=1e-2)
        self.flavour = flavour


class KwargsWriter(WriterModule):
    """A subclass that passes any other option on to its base."""

    def __init__(self, hidden: int = 8, **kwargs) -> None:
        super().__init__(hidden=hidden, **kwargs)


def test_a_narrow_subclass_resumes_from_its_plain_checkpoint():
    hparams = dict(NarrowWriter(hidden=8, message=4, flavour="y").hparams)
    assert {"lr", "ridge_lambda", "flavour"} <= set(hparams)  # the base's options are saved too
    given = {"class_path": f"{__name__}.NarrowWriter", "init_args": {}}
    assert _plain_ckpt_model("x.ckpt", hparams, given) == {
        "class_path": f"{__name__}.NarrowWriter", "init_args": {"hidden": 8, "message": 4, "flavour": "y"}}


def test_options_of_no_class_in_its_chain_are_still_refused():
    given = {"class_path": f"{__name__}.NarrowWriter", "init_args": {}}
    with pytest.raises(ConfigError, match=r"hyperparameters 'candidates' are not options of the config's model "
                                          r"NarrowWriter"):
        _plain_ckpt_model("x.ckpt", {"hidden": 8, "lr": 0.1, "candidates": 2}, given)


def test_a_kwargs_subclass_still_takes_its_bases_options_as_kwargs():
    given = {"class_path": f"{__name__}.KwargsWriter", "init_args": {}}
    assert _plain_ckpt_model("x.ckpt", {"hidden": 8, "message": 4, "lr": 0.1}, given) == {
        "class_path": f"{__name__}.KwargsWriter", "init_args": {"hidden": 8},
        "dict_kwargs": {"message": 4, "lr": 0.1}}
