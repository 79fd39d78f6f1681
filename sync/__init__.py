"""legday: should I run tomorrow, after leg day?

The library: FIT decoding, storage, Garmin sync, the readiness model and its outputs.
Nothing here imports Celery; `worker/` is thin glue over these functions.
"""

import os

__version__ = "0.1.0"

# garth 0.8 depends on logfire, which registers a pydantic plugin ("logfire-plugin"). pydantic
# loads every registered plugin when the first model or settings class is built, and this one
# imports logfire and OpenTelemetry (about 20 MiB and 0.2 s) into every legday process,
# though legday never configures logfire and the plugin then does nothing. Disabled unless
# the environment already says which plugins to disable.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "logfire-plugin")
