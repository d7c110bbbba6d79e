"""Reading a sweep's SQLite study file directly (while its driver runs in another process)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["count_stored"]


def count_stored(db: Path) -> int:
    """Finished trials in the Optuna SQLite file ``db`` (0 if it is not there yet)."""
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return int(con.execute("select count(*) from trials where state != 'RUNNING'")
                       .fetchone()[0])
    except sqlite3.Error:
        return 0
