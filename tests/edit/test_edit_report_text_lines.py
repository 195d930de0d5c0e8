"""The lines of an edit report's text (``str(EditReport)``): the change column's sign (after minus before), a list of
exactly twelve items shown whole (no "..."), and a backdoor repair's attack success rate exactly at its goal said
to be within it (no "0.0000 over"), as the accuracy drop at its budget already is."""

from __future__ import annotations

from metanet.edit.report import EditReport
from metanet.verify import Report


def _report(before: float, after: float, **details) -> EditReport:
    b = Report(accuracy=before, loss=0.3, per_class=[before, 1.0], n=10, seconds=0.1, task="digits", split="test")
    a = Report(accuracy=after, loss=0.4, per_class=[after, 1.0], n=10, seconds=0.1, task="digits", split="test")
    return EditReport(edit="prune", params={"sparsity": 0.5}, before=b, after=a, details=details,
                      asr_before=0.75, asr_after=0.25)


def test_the_change_column_is_after_minus_before():
    lines = str(_report(0.9, 0.8)).splitlines()
    acc = next(line for line in lines if line.strip().startswith("accuracy"))
    assert acc.split()[1:] == ["0.9000", "0.8000", "-10.00", "pts"]
    cls0 = next(line for line in lines if line.strip().startswith("class 0"))
    assert cls0.split()[-2:] == ["-10.00", "pts"]
    asr = next(line for line in lines if line.strip().startswith("attack success rate"))
    assert asr.split()[-2:] == ["-50.00", "pts"]


def test_a_list_of_twelve_is_shown_whole_and_of_thirteen_cut():
    text = str(_report(0.9, 0.9, removed=list(range(12))))
    assert "  removed: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11\n" in text + "\n"
    text = str(_report(0.9, 0.9, removed=list(range(13))))
    assert "  removed: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (13 in all)\n" in text + "\n"


def test_an_attack_success_rate_exactly_at_its_goal_is_not_over_it():
    goal = {"reached": True, "calibration_split": "val", "trigger": "known", "split": "test",
            "asr": 0.1, "max_asr": 0.1, "asr_over_goal": 0.0,
            "accuracy_drop": 0.01, "max_drop": 0.05, "drop_over_budget": 0.0}
    text = str(_report(0.9, 0.89, goal=goal))
    line = next(line for line in text.splitlines() if line.strip().startswith("goal:"))
    assert "attack success rate 0.1000 (goal <= 0.1000)" in line
    assert "over" not in line
    goal.update(asr=0.15, asr_over_goal=0.05, reached=False)
    line = next(line for line in str(_report(0.9, 0.89, goal=goal)).splitlines() if line.strip().startswith("goal:"))
    assert "NOT reached" in line and "attack success rate 0.1500 (goal <= 0.1000, 0.0500 over)" in line
