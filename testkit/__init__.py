"""Test support code: harnesses, engines and fixtures that tests, bench/ and scripts/ share.

The chaos engines (crash, Garmin), the fuzz harness, the SMTP sink, the in-process Celery
worker, the report and serve process helpers, the FIT builders and the data factories live
here, not in `tests/`, so `bench/` and `scripts/` import them without importing the test
suite. Not shipped: pyproject's package discovery takes `sync*` and `worker*` only (the wheel
test checks it).
"""
