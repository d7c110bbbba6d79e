"""The report tests reuse the hand-made records and studies of tests/tracking."""

from __future__ import annotations

import sys
from pathlib import Path

_BUILDERS = str(Path(__file__).resolve().parents[1] / "tracking")
if _BUILDERS not in sys.path:
    sys.path.insert(0, _BUILDERS)
