"""The replayed day's second half (tests/replay.py): the runs every 30 minutes from 03:20 UTC to
15:20, in their own process like cron's, on a warehouse loaded from the same start as the first
half (test_alerts_replay_night.py, run side by side with this one). Its first run catches up:
it must mail exactly what the night's runs mailed (the warnings of 16 and 47), so the warehouse
and the outbox at 03:20 are as the night left them. Then 16 and 47 are mailed once each when
their dry spell has lasted 30 minutes, recover at the first run after their watering and are
warned about the next drying cycle; 8, 28 and 32, below 15 % during the 13:20 and 14:20 runs
for about 15 minutes before their watering, are not mailed."""

from __future__ import annotations

import pytest

from tests.replay import by_plant_and_kind, check_problem_mails, expected_mails, run_schedule, sent
from tests.test_alerts_replay import DAY, NIGHT

pytestmark = pytest.mark.timeout(3600)  # 25 full dbt builds: about 6 minutes idle, 35 loaded


def test_the_day_replayed_every_30_minutes_mails_only_16_and_47(tmp_path):
    replay = run_schedule(tmp_path, DAY)
    expected = expected_mails(DAY)
    print(f"{len(replay.mails)} mails: {sorted(sent(replay.mails).items())}")
    caught_up = replay.mails_by_run[DAY[0]]
    assert sent(caught_up) == by_plant_and_kind(expected_mails(NIGHT))
    assert (
        sent(replay.mails)
        == by_plant_and_kind(expected)
        == {
            (16, "warning"): 2,
            (16, "problem"): 1,
            (16, "recovery"): 1,
            (47, "warning"): 2,
            (47, "problem"): 1,
            (47, "recovery"): 1,
        }
    )
    # each at the run the simulator's schedule says
    for at, mails in replay.mails_by_run.items():
        assert sent(mails) == by_plant_and_kind(m for m in expected if m[0] == at), at
    check_problem_mails(replay)
