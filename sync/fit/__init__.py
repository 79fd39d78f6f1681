"""FIT decoding: bytes in, typed records out (`decode_fit`). Only `decode.py` imports fitparse.

`decode_fit` is loaded on first use, so code that only needs the exercise tables or the record
types (the readiness model, for one) never imports fitparse.
"""

from typing import Any

from sync.errors import FitDecodeError
from sync.fit.exercises import lower_body_weight, muscle_groups
from sync.fit.types import DecodedFile, SessionRecord, SetRecord, TrimpAthlete

__all__ = [
    "DecodedFile",
    "FitDecodeError",
    "TrimpAthlete",
    "SessionRecord",
    "SetRecord",
    "decode_fit",
    "lower_body_weight",
    "muscle_groups",
]


def __getattr__(name: str) -> Any:
    if name == "decode_fit":
        from sync.fit.decode import decode_fit

        return decode_fit
    raise AttributeError(f"module 'sync.fit' has no attribute {name!r}")
