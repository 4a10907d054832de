"""The test and demo harness: the plants API simulator, the simulated backfill, the local
service starters (PostgreSQL, moto S3, the simulator, Chromium) and `make run`'s orchestration.

Nothing in the product (ingest, archive, reports, alerts, lnhm) imports this package, and the
container image does not contain it.
"""
