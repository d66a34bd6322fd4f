"""Reading the CSV tables users hand to the simulator (profiles, traces, accuracy, results)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulator.errors import InputError


def read_csv_table(path: Path, what: str) -> pd.DataFrame:
    """Read a CSV file; a missing or unreadable file is one :class:`InputError` line.

    ``what`` names the table in the message, e.g. ``"profile"`` → ``"x.csv: profile file not
    found"``.
    """
    if not path.is_file():
        raise InputError(f"{path}: {what} file not found")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
