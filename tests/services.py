"""Local services the tests start (from harness.services, shared with make run and bench)."""

from harness.services import *  # noqa: F403
from harness.services import ROOT, chromium_driver, free_port, wait_for_port  # noqa: F401
