"""The one unit convention for sizes, on the site, in the e-mails and in the jobs' progress
lines: SI decimal prefixes (1 kB = 1,000 bytes).

1,930,000 bytes is "1.9 MB" everywhere, never "1.8 MB" (which is what dividing by 1,024 gave
while still saying MB) nor "1.8 MiB" (what the e-mails said).
"""

from __future__ import annotations

UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def format_bytes(value: float | int | None) -> str:
    """Bytes in SI units with one decimal ("999 B", "1.9 MB", "2.0 GB"); None is a dash."""
    if value is None:
        return "—"
    size = float(value)
    for unit in UNITS:
        # round first, so 999,950 bytes is "1.0 MB", not "1,000.0 kB"
        shown = round(size) if unit == "B" else round(size, 1)
        if abs(shown) < 1000 or unit == UNITS[-1]:
            return f"{shown:,.0f} {unit}" if unit == "B" else f"{shown:,.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
