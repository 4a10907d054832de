"""Thresholds for botanist and operator alerts, read from the environment once.

Delivery settings (SMTP, outbox, operator address, store capacity) live in ``lnhm.settings``;
these are the alert rules' own knobs. Invalid values raise ``lnhm.settings.ConfigError``
naming the variable.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from lnhm.settings import env_number


@dataclass(frozen=True)
class AlertConfig:
    watering_hours: float = 26.0
    ingest_failed_runs: int = 3
    stale_minutes: float = 15.0
    archive_hours: float = 26.0
    capacity_warn_pct: float = 80.0
    size_history_days: int = 30


def from_env(env: dict | None = None) -> AlertConfig:
    env = dict(os.environ if env is None else env)
    return AlertConfig(
        watering_hours=env_number(env, "LNHM_ALERT_WATERING_HOURS", 26, float, 1),
        ingest_failed_runs=env_number(env, "LNHM_OPS_INGEST_FAILED_RUNS", 3, int, 1),
        stale_minutes=env_number(env, "LNHM_OPS_STALE_MINUTES", 15, float, 1),
        archive_hours=env_number(env, "LNHM_OPS_ARCHIVE_HOURS", 26, float, 1),
        capacity_warn_pct=env_number(env, "LNHM_OPS_CAPACITY_WARN_PCT", 80, float, 1, 100),
    )


@functools.cache
def load() -> AlertConfig:
    return from_env()
