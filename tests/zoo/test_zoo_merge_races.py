"""A merge whose source zoo is still building: the source's build may drop a broken unit (to train it again) after
the merge listed the source's units and before it copies that unit. That was a raw TypeError ('NoneType' object is
not subscriptable); it is a ZooError naming the unit and what to do, and the units copied before it stay committed."""

from __future__ import annotations

import pytest
from zoo_helpers import _copy

from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import Zoo, merge
from metanet.zoo.store import Store


def _drop_after_listing(monkeypatch, src, unit: int) -> None:
    """The source's build (another Store on the same folder, as another process) drops ``unit`` right after the
    merge's second listing of the source's units (the one it copies from)."""
    real = Store.done_units
    calls = []

    def listed(self):
        done = real(self)
        if self.path.resolve() == src.resolve():
            calls.append(1)
            if len(calls) == 2:
                other = Store(src)
                try:
                    other.lock()
                    other.drop_units([unit])
                finally:
                    other.close()
        return done

    monkeypatch.setattr(Store, "done_units", listed)


def test_a_unit_dropped_by_the_source_build_during_a_merge_is_a_zoo_error(small_zoo, tmp_path, monkeypatch):
    src = _copy(small_zoo, tmp_path / "src")
    with Store(src) as s:
        units = sorted(s.done_units())
    assert len(units) >= 2
    last = units[-1]
    _drop_after_listing(monkeypatch, src, last)
    with pytest.raises(ZooError) as e:
        merge(tmp_path / "dst", [src])
    msg = str(e.value)
    assert f"unit {last} " in msg and str(src) in msg and "run the merge again" in msg, msg
    with Store(tmp_path / "dst") as d:  # the units before it were copied and committed
        assert d.done_units() == set(units[:-1])
    monkeypatch.undo()
    with Zoo(tmp_path / "dst") as z:
        assert z.check().ok


def test_the_cli_reports_it_in_one_line(small_zoo, tmp_path, monkeypatch, capsys):
    src = _copy(small_zoo, tmp_path / "src")
    with Store(src) as s:
        first = min(s.done_units())
    _drop_after_listing(monkeypatch, src, first)
    assert main(["zoo", "merge", str(tmp_path / "dst"), str(src)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"metanet: error: unit {first} "), err


def test_import_unit_of_a_unit_the_source_does_not_hold(small_zoo, tmp_path):
    src = _copy(small_zoo, tmp_path / "src")
    with Store(src) as s, Store(tmp_path / "dst", create=True) as d:
        gone = max(s.done_units())
        s.lock()
        s.drop_units([gone])
        d.lock()
        with pytest.raises(ZooError, match=f"unit {gone} .*no longer in its index"):
            d.import_unit(s, gone)
        assert d.done_units() == set()  # nothing half-copied
