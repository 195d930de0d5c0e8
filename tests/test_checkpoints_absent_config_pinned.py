"""A checkpoint whose config leaves out an argument added later is rebuilt with the value ABSENT_MEANS pins for it
(what such files were loaded with), not with the constructor's current default: a default changed later would
otherwise silently rebuild an old file as another model."""

from __future__ import annotations

from torch import nn

from metanet.checkpoints import ABSENT_MEANS, load_module, save_module


class _Tiny(nn.Module):
    """A module of a writer's kind whose default for ``head_iters`` is not the pinned one."""

    def __init__(self, width: int, head_iters: int = ABSENT_MEANS["writer"]["head_iters"] + 7) -> None:
        super().__init__()
        self.lin = nn.Linear(width, 1)
        self.head_iters = head_iters


def test_an_argument_the_file_lacks_takes_the_pinned_value_not_the_default(tmp_path):
    path = save_module(_Tiny(3), tmp_path / "old.safetensors", "writer", {"width": 3})  # written before head_iters
    loaded = load_module(_Tiny, path, "writer")
    assert loaded.head_iters == ABSENT_MEANS["writer"]["head_iters"]
    assert loaded.lin.in_features == 3


def test_an_argument_the_file_holds_is_used_as_stored(tmp_path):
    path = save_module(_Tiny(3), tmp_path / "new.safetensors", "writer", {"width": 3, "head_iters": 5})
    assert load_module(_Tiny, path, "writer").head_iters == 5
