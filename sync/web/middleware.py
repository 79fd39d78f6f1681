"""One pure-ASGI middleware: body size limit, security headers, request latency metrics."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.exceptions import HTTPException

from sync.web.metrics import Metrics

Scope = dict[str, Any]
Message = dict[str, Any]

# Every response; HTML pages set their own Content-Security-Policy (with a style nonce).
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
DEFAULT_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class BodyTooLarge(HTTPException):
    """A request body passed the configured limit while being read (answered 413 by FastAPI)."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body larger than {limit} bytes")


def _too_large(limit: int) -> tuple[Message, Message]:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    start = {
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    return start, {"type": "http.response.body", "body": body}


class GuardMiddleware:
    """Refuses bodies over `max_body` bytes (413), adds security headers, times each request."""

    def __init__(self, app: Any, *, max_body: int, metrics: Metrics):
        self.app = app
        self.max_body = max_body
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        limit = self.max_body
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            start, body = _too_large(limit)
            start["headers"] += SECURITY_HEADERS + [DEFAULT_CSP]
            await send(start)
            await send(body)
            self.metrics.observe(None, scope["method"], 413, started)
            return
        seen = 0
        started_response = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in names]
                if DEFAULT_CSP[0] not in names:
                    headers.append(DEFAULT_CSP)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if started_response:
                raise
            status = 413
            start, body = _too_large(limit)
            start["headers"] += SECURITY_HEADERS + [DEFAULT_CSP]
            await send(start)
            await send(body)
        finally:
            # The template of the route Starlette matched ("/r/{signed}"), never the path itself.
            route = getattr(scope.get("route"), "path", None)
            self.metrics.observe(route if isinstance(route, str) else None, scope["method"], status, started)
