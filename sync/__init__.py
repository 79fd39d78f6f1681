"""legday: should I run tomorrow, after leg day?

The library: FIT decoding, storage, Garmin sync, the readiness model and its outputs.
Nothing here imports Celery; `worker/` is thin glue over these functions.
"""

__version__ = "0.1.0"
