"""The simulator's clock: real time, scaled time, or a time step per poll.

- ``Clock()``: real UTC time.
- ``Clock(start=t0, speed=60)``: simulated time starts at ``t0`` when the clock is made and runs
  ``speed`` times faster than the wall clock (one real second = one simulated minute).
- ``Clock(start=t0, step_s=60)``: every poll of a plant id advances that id's time by ``step_s``:
  the first poll of id 5 reads at ``t0``, the second at ``t0 + 60 s``, ... so N polls give N
  minutely readings, however fast they come. ``start`` defaults to now, floored to the minute.

``now(plant_id)`` returns an aware UTC datetime. In step mode ``now()`` without an id returns the
time of the most advanced plant (without advancing anything).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def parse_start(text: str) -> datetime:
    """Parse ``2026-11-26T00:00:00`` (UTC when no zone), ``...Z`` or ``...+01:00``."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return _utc(datetime.fromisoformat(text))


class Clock:
    def __init__(
        self,
        start: datetime | None = None,
        speed: float = 1.0,
        step_s: float | None = None,
    ):
        if speed < 0:
            raise ValueError("speed must not be negative (0 freezes the clock at start)")
        if step_s is not None and step_s <= 0:
            raise ValueError("step_s must be positive")
        self.speed = float(speed)
        self.step_s = step_s
        self._wall0 = time.time()
        if start is None and (step_s is not None or speed == 0):
            now = datetime.fromtimestamp(self._wall0, UTC)
            start = now.replace(second=0, microsecond=0)
        self.start = _utc(start) if start is not None else None
        self._polls: dict[int | None, int] = {}
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        if self.step_s is not None:
            return "step"
        return "real" if self.start is None and self.speed == 1.0 else "scaled"

    def now(self, plant_id: int | None = None) -> datetime:
        """The simulated time for a poll of ``plant_id`` (step mode advances that id)."""
        if self.step_s is not None:
            with self._lock:
                if plant_id is None:
                    k = max(self._polls.values(), default=0)
                    k = max(k - 1, 0)
                else:
                    k = self._polls.get(plant_id, 0)
                    self._polls[plant_id] = k + 1
            return self.start + timedelta(seconds=k * self.step_s)
        wall = time.time()
        if self.start is None:
            if self.speed == 1.0:
                return datetime.fromtimestamp(wall, UTC)
            # scaled time from "now": the clock starts at the moment it was made
            base = datetime.fromtimestamp(self._wall0, UTC)
            return base + timedelta(seconds=(wall - self._wall0) * self.speed)
        return self.start + timedelta(seconds=(wall - self._wall0) * self.speed)
