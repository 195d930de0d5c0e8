"""Networks and data in the forms a PyTorch user has them: float64 / half networks, the meta device, TorchScript,
torch.compile and parametrize wrappers, numpy / uint8 / int32 data from a task object of one's own. Each either
works (the same numbers as the float32 network) or is a MetanetError saying what to pass instead."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import metanet
from metanet import tasks
from metanet.errors import ArchError, TaskError


@pytest.fixture(scope="module")
def net(digits_net):
    return digits_net


@pytest.fixture(scope="module")
def digits_test():
    return tasks.get("digits").split("test")


class OwnTask:
    """A task object of one's own (anything with ``split`` and ``num_classes``), giving data as it has it."""

    name = "own"
    num_classes = 10
    input_shape = (1, 8, 8)

    def __init__(self, x, y):
        self.data = (x, y)

    def split(self, name):
        return self.data


# ------------------------------------------------------------------------------------------ verify
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_verify_a_float64_or_half_network_gives_the_float32_numbers(net, dtype):
    want = metanet.verify(net, "digits")
    m = copy.deepcopy(net).to(dtype).train()
    got = metanet.verify(m, "digits")
    assert got.accuracy == pytest.approx(want.accuracy, abs=2 / want.n)
    assert got.loss == pytest.approx(want.loss, rel=1e-2)
    assert m.training and next(m.parameters()).dtype == dtype  # the caller's module as it was


def test_verify_a_float16_network_with_large_finite_logits_has_a_finite_loss(net):
    """The per-batch loss was summed in float16: past 65504 it overflowed, and a network whose every logit is finite
    was reported with loss inf (the value that means 'NaN or inf logits'); inspect's losses likewise."""
    m = copy.deepcopy(net)
    with torch.no_grad():
        m.layers[-1].weight.mul_(2000)
        m.layers[-1].bias.mul_(2000)
    want = metanet.verify(m, "digits")
    assert want.loss * want.n > 70000  # past float16's largest number, summed
    got = metanet.verify(m.half(), "digits")
    assert got.loss == pytest.approx(want.loss, rel=1e-2)
    db = metanet.inspect(m, "digits", reader=None)
    assert db.meta["loss"] == pytest.approx(want.loss, rel=1e-2)


def test_verify_a_meta_device_network_names_the_meta_device(net):
    """It was 'network does not accept inputs of shape (1, 8, 8)': the data was blamed for the missing weights."""
    with pytest.raises(ArchError, match="'meta' device.*to_empty"):
        metanet.verify(copy.deepcopy(net).to("meta"), "digits")


def test_verify_a_torchscript_module_is_an_arch_error(net):
    """It was a raw AssertionError ('param must be a Parameter') from inside torch."""
    scripted = torch.jit.script(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)))
    with pytest.raises(ArchError, match="TorchScript.*scripted from"):
        metanet.verify(scripted, "digits")


def test_verify_a_cnn_on_images_without_their_channel_dimension_says_how_to_add_it(digits_test):
    cnn = metanet.nets.build("cnn:1-4-10:relu:k3:s1", seed=0)
    x, y = digits_test
    with pytest.raises(ArchError, match=r"x\[:, None\]"):
        metanet.verify(cnn, OwnTask(x[:, 0], y))
    assert metanet.verify(cnn, OwnTask(x, y)).n == len(y)


def test_verify_a_task_object_giving_numpy_uint8_or_int32_data(net, digits_test):
    """A task of one's own giving numpy arrays, uint8 images 0..255 or int32 labels: raw AttributeError /
    RuntimeError before; now read as a Task's split (uint8 divided by 255), so the numbers are the float32 ones."""
    x, y = digits_test
    want = metanet.verify(net, OwnTask(x, y))
    x8 = (x * 255).round().to(torch.uint8)
    for given in [(x.numpy(), y.numpy()), (x, y.int()), (x8, y), (x8.numpy(), y.numpy())]:
        got = metanet.verify(net, OwnTask(*given))
        assert got.accuracy == pytest.approx(want.accuracy, abs=2 / len(y)) and got.n == want.n
    assert metanet.verify(net, OwnTask(x.numpy(), y.numpy())).loss == want.loss
    with pytest.raises(TaskError, match="int32.*uint8"):
        metanet.verify(net, OwnTask(x.int(), y))
    with pytest.raises(TaskError, match="labels must be integer"):
        metanet.verify(net, OwnTask(x, y.float()))


def test_verify_stacked_data_as_numpy_or_uint8(net, digits_test):
    from types import SimpleNamespace

    from metanet.verify import verify_stacked

    x, y = digits_test
    p = {k: v.detach()[None] for k, v in net.named_parameters()}
    task = SimpleNamespace(name="given", num_classes=10)
    want = verify_stacked(net, p, task, data=(x, y))[0]
    assert verify_stacked(net, p, task, data=(x.numpy(), y.numpy()))[0].loss == want.loss
    u8 = verify_stacked(net, p, task, data=((x * 255).round().to(torch.uint8), y))[0]
    assert u8.accuracy == pytest.approx(want.accuracy, abs=2 / len(y))


# ------------------------------------------------------------------------------------------ save / load
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_save_round_trips_the_dtype_bit_for_bit(net, tmp_path, dtype):
    m = copy.deepcopy(net).to(dtype)
    back = metanet.load(metanet.save(m, tmp_path / "n.safetensors"))
    assert all(v.dtype == dtype and torch.equal(v, m.state_dict()[k]) for k, v in back.state_dict().items())


def test_save_a_meta_device_network_is_an_arch_error(net, tmp_path):
    """It was a raw NotImplementedError ('Cannot copy out of meta tensor')."""
    with pytest.raises(ArchError, match="'meta' device"):
        metanet.save(copy.deepcopy(net).to("meta"), tmp_path / "n.safetensors")
    assert not (tmp_path / "n.safetensors").exists()


def test_save_a_wrapped_network_says_what_to_pass_instead(net, tmp_path):
    """parametrize on an MLP was 'tensors do not match the architecture: ... unexpected [...original]'; compiled
    and scripted modules were 'unsupported module OptimizedModule / RecursiveScriptModule'."""
    from torch.nn.utils import parametrize

    class Same(nn.Module):
        def forward(self, w):
            return w

    par = copy.deepcopy(net)
    parametrize.register_parametrization(par.layers[0], "weight", Same())
    with pytest.raises(ArchError, match=r"\['layers.0.weight'\].*parametrize.*remove_parametrizations"):
        metanet.save(par, tmp_path / "p.safetensors")
    with pytest.raises(ArchError, match=r"torch.compile.*_orig_mod"):
        metanet.save(torch.compile(net), tmp_path / "c.safetensors")
    seq = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with pytest.raises(ArchError, match="TorchScript"):
        metanet.save(torch.jit.script(seq), tmp_path / "s.safetensors")
    metanet.save(torch.compile(net)._orig_mod, tmp_path / "ok.safetensors")  # what the message says works
