"""The data loaded from IDX files holds int64 labels in every split, as TaskData documents (the files hold uint8):
the arrays data_fingerprint hashes, dtype included, are the same whichever split they come from."""

from __future__ import annotations

import numpy as np

from tasks_helpers import make_idx_folder

from metanet.tasks import sources


def test_every_split_of_idx_data_holds_int64_labels(isolated, monkeypatch):
    _, _, _, y_test = make_idx_folder(isolated / "data" / "mnist")
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    data = sources.load_base("mnist")
    assert {s: data.y[s].dtype for s in ("train", "val", "test")} == {s: np.dtype(np.int64)
                                                                      for s in ("train", "val", "test")}
    assert data.y["test"].tolist() == y_test.tolist()
    assert {s: data.x[s].dtype for s in ("train", "val", "test")} == {s: np.dtype(np.uint8)
                                                                      for s in ("train", "val", "test")}
