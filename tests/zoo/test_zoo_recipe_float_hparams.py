"""A run's real-valued hyperparameters are stored as floats even when the recipe writes them as integers
(``lr: 1``, ``dropout: 0``): the ``hparams`` column holds one type per key across a zoo, whatever each recipe
wrote. Sampling only: nothing is loaded."""

from __future__ import annotations

from metanet.zoo import load_recipe

FLOATS = ("lr", "momentum", "weight_decay", "init_scale", "dropout", "label_noise")


def test_integer_written_real_hyperparameters_are_stored_as_floats():
    train = {"optimizer": "sgd", "lr": 1, "momentum": 0, "weight_decay": 0, "init_scale": 2, "dropout": 0,
             "label_noise": 0}
    r = load_recipe({"count": 1, "tasks": ["digits"], "train": train}, check_tasks=False)
    h = r.sample_run(0, lambda task: ((1, 8, 8), 10, 1077)).hparams
    assert {k: (type(h[k]), h[k]) for k in FLOATS} == {k: (float, float(train[k])) for k in FLOATS}
    assert type(h["batch_size"]) is int and type(h["epochs"]) is int
