"""``metanet train fit --ckpt_path FILE --model.init_args.reward.init_args.margin=0.5``: an option nested in a model
option names that model option (``reward``), so a checkpoint whose reward replaces the one typed is one warning
line. Taken whole (``reward.init_args.margin``) it was looked up in the checkpoint's reward, which need not have that
option: the replacement went unsaid. In-process, on the parsed configs as jsonargparse gives them."""

from __future__ import annotations

from jsonargparse import Namespace

from metanet.train import _command_line_model_keys, _keep_command_line_export

LOOP = "metanet.loop.lightning.LoopModule"


def test_a_nested_model_option_names_its_top_level_option() -> None:
    assert _command_line_model_keys(["fit", "--model.init_args.reward.init_args.margin=0.5",
                                     "--model.reward.class_path=a.C", "--model.dict_kwargs.extra.x=1"]) == [
        "reward", "extra"]


def test_a_typed_nested_option_the_checkpoint_replaces_is_one_warning_line(capsys) -> None:
    ckpt = Namespace(class_path="a.B", init_args=Namespace(k=1))
    cfg = Namespace(model=Namespace(class_path=LOOP, init_args=Namespace(reward=ckpt)))  # the checkpoint's, as parsed
    given = Namespace(class_path=LOOP, init_args=Namespace(reward=Namespace(class_path="a.C",
                                                                            init_args=Namespace(margin=0.5))))
    _keep_command_line_export(cfg, given, ["fit", "--model.init_args.reward.init_args.margin=0.5"])
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("metanet: warning: --model.reward ") and err[0].endswith(
        "(a checkpoint brings its own model options)"), err
    assert cfg.model.init_args.reward is ckpt  # the checkpoint's reward stays: its weights were trained with it
