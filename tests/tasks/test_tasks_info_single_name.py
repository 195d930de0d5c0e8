"""``tasks.info`` given one task name as a string reads that task (it iterated over the string's letters and failed
with "bad task name 'm'")."""

from metanet import tasks


def test_one_name_is_a_list_of_one():
    assert tasks.info("digits") == tasks.info(["digits"])
    (row,) = tasks.info("digits")
    assert row["name"] == "digits" and row["num_classes"] == 10
