import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inspect"))

from inspect_helpers import one_thread  # noqa: E402, F401  (autouse fixture)
