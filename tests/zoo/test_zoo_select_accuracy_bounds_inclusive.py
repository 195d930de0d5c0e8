"""`Zoo.select(min_acc=..., max_acc=...)`: both bounds are inclusive (the docstring's contract), so a network whose
test accuracy equals a bound is selected by it; a strict comparison silently dropped it."""

from __future__ import annotations

from metanet.zoo import Zoo


def test_a_network_at_a_bound_is_selected_by_min_acc_and_by_max_acc(small_zoo):
    with Zoo(small_zoo) as zoo:
        finals = zoo.select(final=True)
        target = finals[len(finals) // 2]
        acc = target.test_acc
        at_least = [n.id for n in zoo.select(min_acc=acc)]
        at_most = [n.id for n in zoo.select(max_acc=acc)]
        exactly = [n.id for n in zoo.select(min_acc=acc, max_acc=acc)]
        assert target.id in at_least and target.id in at_most and target.id in exactly
        # the bounds split the zoo with the networks at the bound on both sides, and nothing else on both
        assert exactly == [n.id for n in zoo if n.test_acc == acc]
        assert sorted(set(at_least) | set(at_most)) == [n.id for n in zoo]
        assert at_least == [n.id for n in zoo if n.test_acc >= acc]
        assert at_most == [n.id for n in zoo if n.test_acc <= acc]
