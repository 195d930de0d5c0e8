"""``--backend ray`` with an address whose port is no TCP port (above 65535) is refused naming the valid ports: the
probe of the address took port 70000 as 70000 mod 65536 and passed when something listened there, then ray.init
was given the address as written."""

from __future__ import annotations

import socket
import sys
import types

import pytest

from metanet.errors import ZooError
from metanet.zoo import build

RECIPE = {
    "name": "tiny", "seed": 5, "count": 1, "population": 1, "tasks": ["digits"], "checkpoints": [0],
    "arch": {"family": "mlp", "depth": 1, "width": 4},
    "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 1, "train_examples": 100},
    "eval": {"train_examples": 50},
}


def _no_init(**kw):
    raise AssertionError("ray.init must not be reached")


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_port_above_65535_is_refused_even_where_its_wrapped_port_listens(tmp_path, monkeypatch, scheme):
    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(is_initialized=lambda: False, init=_no_init))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1] + 65536  # the socket module wraps it to the listening port
        address = f"{scheme}127.0.0.1:{port}"
        with pytest.raises(ZooError) as e:
            build(dict(RECIPE), tmp_path / "zoo", backend="ray", ray_address=address, progress=False)
    assert str(e.value).startswith(f"no Ray cluster answers at {address} (from --ray-address: port {port} is no TCP "
                                   "port, those are 1 to 65535); ")
    assert not (tmp_path / "zoo").exists()


# build() given an address where no cluster answers names the Python argument ray_address as well as the CLI's
# --ray-address (a script calling build() was told of a flag alone)
def test_no_cluster_names_the_python_argument_too(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(is_initialized=lambda: False, init=_no_init))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ZooError) as e:  # port 70000: refused before any connection is tried
        build(dict(RECIPE), tmp_path / "zoo", backend="ray", ray_address="127.0.0.1:70000", progress=False)
    text = str(e.value)
    assert text.startswith("no Ray cluster answers at 127.0.0.1:70000 (from --ray-address: port 70000 is no TCP port")
    assert "as --ray-address, or build()'s ray_address from Python, or neither --ray-address nor $RAY_ADDRESS" in text
    assert "\n" not in text and not (tmp_path / "zoo").exists()
