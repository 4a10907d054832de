"""The local services the tests start (kept in lnhm.services, which make run and bench use too)."""

from lnhm.services import *  # noqa: F403
from lnhm.services import ROOT, chromium_driver, free_port, wait_for_port  # noqa: F401
