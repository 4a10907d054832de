"""The replayed day's first half (tests/replay.py): the runs every 30 minutes from 15:20 UTC,
every plant just watered, to 02:50, in their own process like cron's. 16 and 47 are warned
once, at the first run, that they will be dry hours before their next watering; nothing else is
mailed. The second half is test_alerts_replay_day.py (the two run side by side)."""

from __future__ import annotations

import pytest

from tests.replay import by_plant_and_kind, expected_mails, run_schedule, sent
from tests.test_alerts_replay import NIGHT

pytestmark = pytest.mark.timeout(3600)  # 24 full dbt builds: about 6 minutes idle, 35 loaded


def test_the_night_replayed_every_30_minutes_mails_only_16_and_47(tmp_path):
    replay = run_schedule(tmp_path, NIGHT)
    expected = expected_mails(NIGHT)
    print(f"{len(replay.mails)} mails: {sorted(sent(replay.mails).items())}")
    assert (
        sent(replay.mails)
        == by_plant_and_kind(expected)
        == {
            (16, "warning"): 1,
            (47, "warning"): 1,
        }
    )
    # at the run the simulator's schedule says
    for at, mails in replay.mails_by_run.items():
        assert sent(mails) == by_plant_and_kind(m for m in expected if m[0] == at), at
