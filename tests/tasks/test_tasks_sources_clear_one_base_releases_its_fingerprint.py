"""clear_base_cache(name) forgets the fingerprint of ``name``'s data too: the forgotten arrays are freed, not kept
alive by the fingerprint cache until the next data_fingerprint call (70,000 fashion-mnist images)."""

from __future__ import annotations

import gc
import weakref

from tasks_helpers import make_idx_folder

from metanet.tasks import sources


def test_clearing_one_base_data_set_frees_its_fingerprinted_data(isolated, monkeypatch):
    make_idx_folder(isolated / "data" / "mnist")
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    first = sources.data_fingerprint("mnist")
    gone = weakref.ref(sources.load_base("mnist"))
    sources.clear_base_cache("mnist")
    gc.collect()
    assert gone() is None, "the forgotten data is still referenced (by the fingerprint cache)"
    assert sources.data_fingerprint("mnist") == first  # reloaded from the same files: the same fingerprint
