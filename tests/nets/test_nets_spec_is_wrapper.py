"""``metanet.nets.spec.is_wrapper``: the one test of "this module wraps the network it runs" (TorchScript,
``torch.compile``, ``nn.DataParallel`` / ``DistributedDataParallel``) that ``generate(arch=...)`` and ``verify`` use.
Both had restated it, telling a compiled module by its class name alone: a network class of one's own named
``OptimizedModule`` made ``generate`` say "...this OptimizedModule: None", and ``verify`` refused such a network
with parametrized weights (``weight_norm``), which it runs in any other class."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError
from metanet.nets import build


class OptimizedModule(nn.Module):
    """A network of one's own that only shares torch.compile's class name (no ``_orig_mod``)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


class _Compiled(nn.Module):
    """What torch.compile returns, as metanet tells it (importing torch._dynamo for a real one costs seconds)."""

    def __init__(self, mod: nn.Module) -> None:
        super().__init__()
        self._orig_mod = mod


_Compiled.__name__ = "OptimizedModule"


def _net() -> nn.Module:
    return build("mlp:64-16-10:relu", seed=0)


def test_is_wrapper_tells_the_wrappers_from_networks():
    from metanet.nets.spec import is_wrapper

    net = _net()
    assert is_wrapper(torch.jit.script(net))
    assert is_wrapper(nn.DataParallel(net))
    assert is_wrapper(_Compiled(net))
    assert not is_wrapper(net)
    assert not is_wrapper(OptimizedModule(net))  # the name alone: not torch.compile's wrapper
    assert not is_wrapper("mlp:64-16-10:relu")


def test_generate_names_a_class_only_called_optimized_module_as_any_other_module():
    with pytest.raises(ArchError, match=r"^the writer writes metanet's mlp and cnn families, not an OptimizedModule; "
                                        r"give an architecture") as e:
        metanet.generate("digits", arch=OptimizedModule(_net()))
    assert "None" not in str(e.value)


def test_verify_runs_a_parametrized_network_whose_class_is_only_called_optimized_module():
    net = _net()
    torch.nn.utils.parametrizations.weight_norm(net.layers[0])
    want = metanet.verify(net, "digits").accuracy
    assert metanet.verify(OptimizedModule(net), "digits").accuracy == want


def test_verify_still_refuses_a_compiled_wrapper_of_a_parametrized_network():
    net = _net()
    torch.nn.utils.parametrizations.weight_norm(net.layers[0])
    with pytest.raises(ArchError, match=r"^cannot run this OptimizedModule: OptimizedModule is a torch\.compile "
                                        r"wrapper; pass the module you compiled \(compiled\._orig_mod\)"):
        metanet.verify(_Compiled(net), "digits")
