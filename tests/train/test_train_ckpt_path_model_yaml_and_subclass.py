"""``metanet train fit --ckpt_path ...`` keeps a ``--model.export`` typed on the command line in every form it can be
typed: as part of a YAML mapping (``--model='{init_args: {export: PATH}}'``, ``--model.init_args '{export: PATH}'``),
and with a config's own subclass of the checkpoint's module (its class replaced by the checkpoint's, one warning line).
Both were replaced by the checkpoint's export silently: the resumed run overwrote the earlier run's file."""

from __future__ import annotations

from jsonargparse import Namespace

from metanet.train import _command_line_model_keys, _keep_command_line_export
from metanet.writer.lightning import WriterModule

WRITER = "metanet.writer.lightning.WriterModule"
SUFFIX = "(a checkpoint brings its own model options)"


class MyWriter(WriterModule):
    """A config's own subclass of the writer's module."""


def test_the_keys_of_a_model_typed_as_yaml_are_command_line_options():
    assert _command_line_model_keys(["fit", '--model={"init_args": {"export": "b", "hidden": 16}}']) == [
        "export", "hidden"]
    assert _command_line_model_keys(["--model", f"{{class_path: {WRITER}, init_args: {{export: b}}}}"]) == ["export"]
    assert _command_line_model_keys(["--model.init_args", "{export: b}", "--model.message=2"]) == ["export", "message"]
    assert _command_line_model_keys(["--model.init_args={hidden: 16}", "--model.dict_kwargs={extra: 1}"]) == [
        "hidden", "extra"]
    # a class name, a file path or no value names no option
    assert _command_line_model_keys(["--model", WRITER, "--model=m.yaml", "--model={bad", "--model"]) == []


def _model(class_path: str, **init_args: object) -> Namespace:
    return Namespace(class_path=class_path, init_args=Namespace(**init_args))


def test_a_yaml_export_is_kept_over_the_checkpoints(capsys):
    cfg = Namespace(model=_model(WRITER, export="first.safetensors", hidden=8))
    given = _model(WRITER, export="b.safetensors", hidden=8)
    _keep_command_line_export(cfg, given, ["fit", "--model.init_args", "{export: b.safetensors}"])
    assert cfg.model.init_args.export == "b.safetensors"
    assert capsys.readouterr().err == ""


def test_a_config_subclass_keeps_the_export_and_its_replacement_is_one_warning_line(capsys):
    mine = f"{__name__}.MyWriter"
    cfg = Namespace(model=_model(WRITER, export="first.safetensors", hidden=8))  # the checkpoint's, as parsed
    given = _model(mine, export="b.safetensors", hidden=16)
    _keep_command_line_export(cfg, given, ["fit", "--model.export=b.safetensors", "--model.hidden", "16"])
    assert cfg.model.init_args.export == "b.safetensors" and cfg.model.init_args.hidden == 8
    assert capsys.readouterr().err.splitlines() == [
        f"metanet: warning: --model.class_path {mine} is replaced by the checkpoint's {WRITER} {SUFFIX}",
        f"metanet: warning: --model.hidden 16 is replaced by the checkpoint's 8 {SUFFIX}"]
    # the checkpoint of a subclass with the config's base class: its own class, as it should be (no line)
    cfg = Namespace(model=_model(mine, export="first.safetensors"))
    _keep_command_line_export(cfg, _model(WRITER, export="c.safetensors"), ["--model.export=c.safetensors"])
    assert cfg.model.init_args.export == "c.safetensors" and capsys.readouterr().err == ""
