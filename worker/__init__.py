"""Celery glue over the `sync` library: the app, its tasks and the beat schedule."""
