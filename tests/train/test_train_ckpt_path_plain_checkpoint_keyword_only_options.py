"""``metanet train fit -c mine.yaml --ckpt_path FILE`` with a plain-Lightning checkpoint (no class name) of a user's
subclass whose own options are keyword-only (``def __init__(self, *, flavour="x")``): they are options of the class,
taken from the checkpoint as the others are, not refused as "not options of the config's model". In-process."""

from __future__ import annotations

from metanet.train import _init_names, _plain_ckpt_model
from metanet.writer.lightning import WriterModule


class KeywordOnlyWriter(WriterModule):
    """A subclass whose own option can be given only by name."""

    def __init__(self, hidden: int = 8, *, flavour: str = "x") -> None:
        super().__init__(hidden=hidden, message=4, lr=1e-2)
        self.flavour = flavour


def test_keyword_only_options_are_names_a_class_takes() -> None:
    assert _init_names(KeywordOnlyWriter) == ["hidden", "flavour"]


def test_a_plain_checkpoint_of_a_keyword_only_option_resumes_with_it() -> None:
    hparams = dict(KeywordOnlyWriter(hidden=8, flavour="y").hparams)
    assert hparams["flavour"] == "y"
    given = {"class_path": f"{__name__}.KeywordOnlyWriter", "init_args": {}}
    assert _plain_ckpt_model("x.ckpt", hparams, given) == {
        "class_path": f"{__name__}.KeywordOnlyWriter", "init_args": {"hidden": 8, "flavour": "y"}}
