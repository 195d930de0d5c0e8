"""Review of session 31's last commits (3680265..893d20f): bugs found, each with the test that failed before."""

from __future__ import annotations

import gc
import weakref

from metanet import tasks
from metanet.tasks.sources import load_base
from metanet.zoo.data import load_task_data, task_info


def test_trainer_caches_keep_no_forgotten_data_alive_after_clear_cache():
    # The trainer's caches were keyed by the Task object itself: after tasks.clear_cache() (another $METANET_DATA)
    # they still held the old Task, hence the whole forgotten base data set, until 256 / 6 newer entries came.
    tasks.clear_cache()
    task_info("digits[0,1]")
    first = load_task_data("digits", 200, 50, 0)
    assert load_task_data("digits", 200, 50, 0) is first  # still cached while the task is loaded
    base, task = weakref.ref(load_base("digits")), weakref.ref(tasks.get("digits"))
    tasks.clear_cache()
    gc.collect()
    assert base() is None and task() is None
    # and the next call loads anew rather than answering from the forgotten task
    again = load_task_data("digits", 200, 50, 0)
    assert again is not first and again.x_train.shape == first.x_train.shape
    assert task_info("digits[0,1]") == ((1, 8, 8), 2, int((tasks.get("digits").split("train")[1] < 2).sum()))


def test_a_file_of_an_examples_task_is_sent_to_the_python_call_of_its_own_command(tmp_path, capsys):
    # task_for, shared by verify, inspect and edit since today, told `metanet verify` users to call
    # metanet.inspect(path, (x, y)) (no verification) and `metanet edit` users the same
    import metanet
    from metanet.cli import main

    net = metanet.nets.build(metanet.nets.Arch.parse("mlp:64-16-3"), seed=0)
    path = metanet.save(net, tmp_path / "examples.safetensors", task="examples-1a2b3c4d")
    said = {}
    for argv in (["verify", str(path)], ["edit", str(path), "--prune", "0.1", "--out", str(tmp_path / "e.st")],
                 ["inspect", str(path), "--out", str(tmp_path / "ins"), "--no-reader"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "was made for task 'examples-1a2b3c4d'" in err, err
        said[argv[0]] = err.split("in Python give its examples: ")[1]
    assert said["verify"] == "metanet.verify(path, (x, y))"
    assert said["edit"].startswith("the metanet.edit functions take them as the task, e.g. metanet.edit.remove(")
    assert said["inspect"].startswith("metanet.inspect(path, (x, y))")
    # and the calls named do take the file with its examples
    x, y = tasks.get("digits[0,1,2]").split("test")
    assert metanet.verify(str(path), (x, y)).task.startswith("examples-")
    assert metanet.edit.remove(str(path), "1:0", (x, y)).report is not None


def test_zoo_info_of_a_merge_that_dropped_the_data_record_does_not_call_the_zoo_old(tmp_path):
    # merge drops the destination's data record when a source without one brings units (a zoo built by this
    # version): `zoo info` then said the zoo was "built before metanet recorded it"
    from metanet.zoo import Zoo, build, merge
    from metanet.zoo.store import Store
    from metanet.zoo.zoo import format_summary

    build("tiny", tmp_path / "a", shard="0/2", limit=4, progress=False)
    build("tiny", tmp_path / "b", shard="1/2", limit=4, progress=False)
    old = Store(tmp_path / "b")
    try:
        old.drop_meta("data")  # as a zoo built before the record was kept
    finally:
        old.close()
    assert Zoo(tmp_path / "a").data is not None
    merge(tmp_path / "a", [tmp_path / "b"])
    zoo = Zoo(tmp_path / "a")
    assert zoo.data is None
    text = format_summary(zoo.summary())
    assert "data: not recorded (built, or merged with a zoo built, before metanet recorded it)" in text
