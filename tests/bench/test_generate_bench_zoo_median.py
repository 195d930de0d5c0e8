"""bench/generate.py's zoo agreement: the median test accuracy of the zoo's networks is the median numpy and
statistics compute (the mean of the two middle values of an even count), not torch's lower middle value."""

from __future__ import annotations

import numpy as np
import pytest
from bench_helpers import load_bench


@pytest.fixture
def bench(monkeypatch):
    return load_bench("generate", monkeypatch, prefix="bench_median")


def test_zoo_median_test_accuracy_is_numpys_median(bench, tiny_zoo):
    from metanet import tasks
    from metanet.zoo import Zoo

    zoo = Zoo(tiny_zoo)
    task = tasks.get("digits")
    xte, yte = task.split("test")
    eligible = zoo.select(task="digits", final=True, backdoor=False, diverged=False)
    accs = [float((bench.predict(zoo.load(n.id), xte) == yte).float().mean()) for n in eligible]
    assert len(accs) % 2 == 0  # the premise: an even count, where the two conventions differ on this zoo
    res = bench.zoo_agreement(task, eligible[0].arch, yte, [yte], xte, yte, [zoo])["zoo"]
    assert res["networks"] == len(accs)
    assert res["zoo_test_acc_here"]["median"] == bench.r4(np.median(accs))  # was the lower middle value
    assert res["zoo_test_acc_here"]["max"] == bench.r4(max(accs))
