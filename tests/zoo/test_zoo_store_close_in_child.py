"""``Store.close()`` in a forked child (``metanet/zoo/store.py``): the child leaves its parent's index connections
open (closing one a parent thread was inside waited forever), but a read after its own close() must still say the zoo
was closed, not go on through the parent's connection across the fork, which SQLite forbids."""

from __future__ import annotations

from process_helpers import in_child

from metanet.errors import ZooError
from metanet.zoo import Zoo


def _close_then_read(zoo: Zoo) -> str:
    zoo.close()
    zoo.refresh()  # forget the rows read before: the next len() queries the index
    try:
        return f"read {len(zoo)} networks after close()"
    except ZooError as e:
        return str(e)


def test_a_read_after_close_in_a_forked_child_says_closed(small_zoo):
    with Zoo(small_zoo) as zoo:
        len(zoo)  # the parent's connection is open and used before the fork
        got = in_child(lambda: _close_then_read(zoo))
        assert "was closed" in got and "open the zoo again" in got, got
        assert len(zoo) == 24  # the parent's zoo is untouched by its child's close()
