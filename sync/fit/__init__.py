"""FIT decoding: bytes in, typed records out (`decode_fit`). Only `decode.py` imports fitparse."""

from sync.errors import FitDecodeError
from sync.fit.decode import decode_fit
from sync.fit.exercises import lower_body_weight, muscle_groups
from sync.fit.types import DecodedFile, HeartRateProfile, SessionRecord, SetRecord

__all__ = [
    "DecodedFile",
    "FitDecodeError",
    "HeartRateProfile",
    "SessionRecord",
    "SetRecord",
    "decode_fit",
    "lower_body_weight",
    "muscle_groups",
]
