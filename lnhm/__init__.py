"""Shared plumbing for the LNHM plant-sensor warehouse jobs: settings, locks, DuckDB, job logs."""
