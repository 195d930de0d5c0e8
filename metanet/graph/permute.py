"""`permute_hidden`: the same function with its hidden neurons in another order (the symmetry a neural graph
respects: a permuted network's graph is the original graph with its nodes relabelled)."""

from __future__ import annotations

from numbers import Integral
from typing import Sequence

import torch
from torch import Tensor, nn

from metanet.errors import GraphError
from metanet.graph.encode import as_network
from metanet.graph.mapping import Layout, is_graph, layout

__all__ = ["permute_hidden", "tied_layers"]


def tied_layers(lay: Layout, layer: int) -> list[int]:
    """Neuron layers that must be permuted together with hidden layer ``layer``: residual skips add neuron j of
    one layer to neuron j of the next, so a chain of skip layers shares one order."""
    group = [layer]
    l = layer
    while l >= 1 and lay.layers[l - 1].residual:  # layer l = l-1 + f(l-1): tied to l-1
        l -= 1
        group.insert(0, l)
    l = layer
    while l + 1 <= lay.num_layers and lay.layers[l].residual:  # layer l+1 = l + f(l): tied to l+1
        l += 1
        group.append(l)
    return group


def permute_hidden(module: nn.Module, layer: int, perm: Sequence[int] | Tensor) -> nn.Module:
    """A copy of ``module`` whose hidden neurons of neuron layer ``layer`` are reordered by ``perm``.

    New neuron ``j`` is old neuron ``perm[j]``: the producing layer's weight rows (output channels) and biases and
    the consuming layer's weight columns (input channels, or the ``Flatten`` blocks of a channel) are permuted
    together, so the function is unchanged (up to floating-point summation order). Layers tied to ``layer`` by
    residual skips (see :func:`tied_layers`) are permuted with the same ``perm``. The copy keeps the module's
    training mode and which parameters require gradients.

    Args:
        module: any network :func:`~metanet.graph.to_graph` supports (also :func:`metanet.generate`'s result or a
            saved network's path, as ``to_graph`` takes them: the copy is of the network they hold).
        layer: a hidden neuron layer, ``1 .. L-1`` (0 is the input and ``L`` the output; those are not
            interchangeable); any integer type (``int``, NumPy integer, one-element integer tensor).
        perm: a permutation of ``range(n_layer)``, one-dimensional (list, NumPy array or integer tensor).

    Raises:
        GraphError: ``layer`` is not hidden, or ``perm`` is not a permutation of the layer's neurons.
    """
    module = as_network(module)  # else a path was parsed as an architecture string ("malformed architecture")
    if not isinstance(module, nn.Module):  # an architecture has no weights to permute; a graph: say how
        hint = "; for a graph use to_graph(permute_hidden(from_graph(graph), layer, perm))" if is_graph(
            module) else ""
        raise GraphError(f"permute_hidden() permutes a network's weights: give an nn.Module (or a saved network's "
                         f"path), got {type(module).__name__}{hint}")
    from metanet.nets.spec import wrapper_problem

    problem = wrapper_problem(module)  # a pruned MLP's layout was its arch's: 'missing layers.0.weight'
    if problem:
        raise GraphError(f"cannot permute this {type(module).__name__}: {problem}")
    lay = layout(module)
    if isinstance(layer, Integral) and not isinstance(layer, bool):
        layer = int(layer)  # numpy integers, e.g. from np.arange or a config
    elif isinstance(layer, Tensor) and layer.numel() == 1 and not layer.is_floating_point() and layer.dtype != torch.bool:
        layer = int(layer)
    if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= lay.num_layers - 1:
        raise GraphError(
            f"layer {layer!r} is not a hidden neuron layer of {lay.describe_arch()}; valid: "
            + (f"1..{lay.num_layers - 1}" if lay.num_layers > 1 else "none (the network has no hidden layer)")
        )
    n = lay.sizes[layer]
    valid = f"perm must be a permutation of 0..{n - 1} (layer {layer} has {n} neurons) given as integers, got {perm!r:.200}"
    try:
        p = torch.as_tensor(perm)
    except (TypeError, ValueError, RuntimeError):
        raise GraphError(valid) from None
    # as_tensor(..., dtype=long) would truncate [1.9, 0.2, 2.5] to a valid [1, 0, 2]
    if p.dtype not in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        raise GraphError(valid)
    p = p.to(torch.long).cpu()
    if p.dim() != 1 or p.numel() != n or not torch.equal(torch.sort(p).values, torch.arange(n)):
        raise GraphError(valid)
    params = {k: v.detach().clone() for k, v in lay.params_of(module).items()}
    for l in tied_layers(lay, layer):
        produce = lay.layers[l - 1]
        params[produce.weight] = params[produce.weight][p]
        if produce.bias is not None:
            params[produce.bias] = params[produce.bias][p]
        consume = lay.layers[l] if l < lay.num_layers else None
        if consume is not None:
            w = params[consume.weight]
            if consume.type == "conv2d":
                params[consume.weight] = w[:, p]
            else:  # linear, possibly reading S positions per channel
                params[consume.weight] = w.view(consume.n_out, consume.n_in, consume.kk)[:, p].reshape(w.shape)
    out = lay.build({k: v.contiguous() for k, v in params.items()})
    frozen = {k for k, v in lay.params_of(module, detach=False).items() if not v.requires_grad}
    for k, v in out.named_parameters():  # a copy: frozen layers stay frozen
        if k in frozen:
            v.requires_grad_(False)
    return out.train(module.training)
