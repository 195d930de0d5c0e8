"""generate warns when the validation split has no example of some of the task's classes: from_examples keeps a
class of fewer than 3 examples wholly for training, and 1 example of one digit with 60 of another gave "test
accuracy 1.0000" without a word for a network never scored on the first."""

from __future__ import annotations

import warnings

import pytest
import torch

import metanet


def _digits(counts: dict[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = metanet.tasks.get("digits").split("train")
    rows = torch.cat([torch.nonzero(y == c).flatten()[:n] for c, n in counts.items()])
    return x[rows], torch.cat([torch.full((n,), i) for i, n in enumerate(counts.values())])


def test_one_example_of_a_class_against_sixty_warns_that_it_was_never_scored() -> None:
    with pytest.warns(UserWarning, match=r"has no validation examples of class 0 \(1 of its 2\): the candidates were "
                                         r"chosen, and the test accuracy measured, without them; tasks\.from_examples "
                                         r"keeps a class of fewer than 3 examples wholly for training"):
        g = metanet.generate(_digits({0: 1, 1: 60}), candidates=2, seed=0)
    assert g.report.test is not None and g.report.test.per_class[0] != g.report.test.per_class[0]  # NaN: untested


def test_many_classes_missing_are_listed_and_counted() -> None:
    with pytest.warns(UserWarning, match=r"no validation examples of classes 0, 1, 2, 3, 4, 5, 6, 7, 8 \(9 of its "
                                         r"10\)"):
        metanet.generate(_digits({**{c: 2 for c in range(9)}, 9: 60}), candidates=1, seed=0)


def test_a_task_object_whose_val_split_lacks_a_class_is_told_to_verify_on_every_class() -> None:
    x, y = _digits({0: 20, 1: 20, 2: 20})

    class Given:  # any object with split and num_classes: its own splits, the third class absent from val
        num_classes = 3

        def split(self, name):
            return (x, y) if name == "train" else (x[y < 2], y[y < 2])

    with pytest.warns(UserWarning, match=r"no validation examples of class 2 \(1 of its 3\): the candidates were "
                                         r"chosen, and the test accuracy measured, without them; verify the network "
                                         r"on examples of every class"):
        metanet.generate(Given(), candidates=1, seed=0)


def test_every_class_in_val_gives_no_such_warning() -> None:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        metanet.generate(_digits({0: 3, 1: 60}), candidates=1, seed=0)  # 3: one each to val and test
    assert not [w for w in rec if "no validation examples" in str(w.message)]
