"""generate(): argument checks, the report's dict round trip with the CLI's JSON, global state."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from metanet.errors import FileFormatError, TaskError
from metanet.writer import GenerationReport, generate

KW = dict(arch="mlp:64-8-10:relu", candidates=2, shots=10)


@pytest.mark.parametrize("value", ["no", "False", None, 0, 1])
def test_verify_must_be_a_bool(digits, untrained, value):
    """verify='no' is truthy: it verified and chose among the candidates, silently."""
    with pytest.raises(TaskError, match="verify must be True or False"):
        generate(digits, verify=value, writer=untrained, **KW)


def test_verify_takes_numpy_bools(digits, untrained):
    assert generate(digits, verify=np.False_, writer=untrained, **KW).report.test is None
    assert generate(digits, verify=np.True_, writer=untrained, **KW).report.test is not None


def test_report_from_dict_reads_the_cli_json_and_names_what_is_missing(digits, untrained):
    from metanet.io import json_safe

    g = generate(digits, writer=untrained, **KW)
    d = json.loads(json.dumps({**json_safe(g.report.to_dict()), "out": "/tmp/net.safetensors"}))  # `--json --out`
    assert GenerationReport.from_dict(d) == g.report  # was a TypeError: unexpected keyword argument 'out'
    with pytest.raises(FileFormatError, match="missing arch, candidates, chosen"):
        GenerationReport.from_dict({"task": "digits"})
    with pytest.raises(FileFormatError, match="is a mapping .* got list"):
        GenerationReport.from_dict([])
    with pytest.raises(FileFormatError, match="test score is not a Report"):
        GenerationReport.from_dict({**d, "test": {"accuracy": 1.0}})


def test_generate_ignores_torch_default_device(digits, untrained):
    ref = generate(digits, writer=untrained, **KW)
    torch.set_default_device("meta")  # was an IndexError from the support set's draws on the meta device
    try:
        g = generate(digits, writer=untrained, **KW)
    finally:
        torch.set_default_device(None)
    assert g.report.chosen == ref.report.chosen and g.report.candidates == ref.report.candidates
    assert all(v.device.type == "cpu" and v.equal(ref.model.state_dict()[k]) for k, v in g.model.state_dict().items())
