"""HTTP to the servers the tests start on loopback: httpx with one TLS context per process.

httpx builds a new SSL context (loading the whole CA bundle, about 24 ms of CPU) for every
top-level `httpx.get`/`post` and every `httpx.Client`, even for an http:// URL; the suite makes
hundreds of such calls. These take the same arguments and share one context instead.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

_TLS = ssl.create_default_context()


def get(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.get` with the shared TLS context."""
    kwargs.setdefault("verify", _TLS)
    return httpx.get(url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.post` with the shared TLS context."""
    kwargs.setdefault("verify", _TLS)
    return httpx.post(url, **kwargs)


def Client(**kwargs: Any) -> httpx.Client:  # noqa: N802 - stands in for the class
    """`httpx.Client(...)` with the shared TLS context."""
    kwargs.setdefault("verify", _TLS)
    return httpx.Client(**kwargs)
