"""``generate(arch=...)`` given a wrapped module (``torch.compile``, TorchScript, ``nn.DataParallel``) said "not a
OptimizedModule" and offered an architecture string; it names the wrapper and the module to pass instead."""

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError
from metanet.nets import build


class OptimizedModule(nn.Module):
    """What torch.compile returns, as metanet tells it (by name, holding ``_orig_mod``): importing torch._dynamo for
    a real one took ~7 s of this test."""

    def __init__(self, mod: nn.Module) -> None:
        super().__init__()
        self._orig_mod = mod


def test_a_compiled_metanet_module_names_the_module_it_wraps():
    net = build("mlp:64-16-10:relu", seed=0)
    with pytest.raises(ArchError, match=r"^the writer cannot take the architecture of this OptimizedModule: "
                                        r"OptimizedModule is a torch\.compile wrapper; pass the module you compiled "
                                        r"\(compiled\._orig_mod\)"):
        metanet.generate("digits", arch=OptimizedModule(net))


def test_scripted_and_data_parallel_modules_name_their_wrapper():
    seq = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with pytest.raises(ArchError, match=r"this RecursiveScriptModule: .*TorchScript module"):
        metanet.generate("digits", arch=torch.jit.script(seq))
    with pytest.raises(ArchError, match=r"this DataParallel: .*\(wrapped\.module\)"):
        metanet.generate("digits", arch=nn.DataParallel(seq))


def test_other_modules_are_named_with_their_article():
    with pytest.raises(ArchError, match=r"families, not an Identity; give an architecture"):
        metanet.generate("digits", arch=nn.Identity())
    with pytest.raises(ArchError, match=r"families, not a Sequential; give an architecture"):
        metanet.generate("digits", arch=nn.Sequential(nn.Flatten(), nn.Linear(64, 10)))
