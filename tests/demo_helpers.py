"""Demo test helpers: the demo's stages replaced by stubs that only record that they ran."""

from __future__ import annotations

import time

import metanet.demo as demo
from metanet.demo import STAGES


def stub_stages(monkeypatch, fail_at: str | None = None, outside: float = 0.0) -> list[str]:
    """Stages that only record their names; ``fail_at`` raises KeyboardInterrupt (Ctrl-C) in that stage, and
    ``outside`` seconds pass before every stage (as the imports at the top of a stage do)."""
    ran: list[str] = []

    def stage(name):
        def run_stage(run, *args):
            time.sleep(outside)
            with run.stage(name, "stub") as row:
                if name == fail_at:
                    raise KeyboardInterrupt
                ran.append(name)
                row["result"] = "ok"
            return (None, {}) if name == "generate" else {}
        return run_stage

    for name in STAGES:
        monkeypatch.setattr(demo, f"_stage_{name}", stage(name))
    return ran
