"""Running the report server under uvicorn, with a header timeout uvicorn does not have.

uvicorn's only idle timer (`timeout_keep_alive`) starts after a response and is cancelled by
the first byte of the next request; nothing limits how long a connection may take to finish
its headers. A connection that opens and never sends them, or sends them a byte at a time,
stays open for ever, and a few hundred of them use up the file descriptors of a small
container: real requests then wait in the listen queue. So every connection gets a deadline,
from its opening and again from the end of each response, by which its request headers must
be complete; past it the connection is closed. The header size is capped by h11
(`h11_max_incomplete_event_size`): a longer header block is a 400.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from sync.config import Settings

MAX_HEADER_BYTES = 16 * 1024


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete
    `header_timeout` seconds after it opened or after its last response."""

    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._header_deadline_passed)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _waiting_for_headers(self) -> bool:
        # h11 keeps the client IDLE until a request's whole header block has arrived.
        return self.conn.their_state is h11.IDLE

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()

    # The override uvicorn's H11Protocol makes too (and ignores the same way): asyncio.Protocol
    # declares a BaseTransport, a TCP server hands the full Transport the protocol uses.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's headers."""
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        """Stop the clock once the headers are complete (bytes alone do not stop it)."""
        super().data_received(data)
        if self._header_deadline is not None and not self._waiting_for_headers():
            self._cancel_header_deadline()

    def on_response_complete(self) -> None:
        """A kept-alive connection gets the same deadline for its next request's headers."""
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self._waiting_for_headers():
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        """Nothing to time out any more."""
        self._cancel_header_deadline()
        super().connection_lost(exc)


def protocol_class(header_timeout_s: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class uvicorn instantiates per connection, with this header timeout."""
    return type("LegdayHttpProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout_s})


def server_config(app: Any, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    """The uvicorn configuration of `legday serve`: h11 with the header timeout, the idle
    keep-alive timeout and the header size cap from the settings."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_class(settings.serve_header_timeout_s),
        timeout_keep_alive=settings.serve_keep_alive_s,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        server_header=False,
    )


def run(app: Any, settings: Settings, *, host: str, port: int) -> None:
    """Serve `app` until interrupted (SIGINT / SIGTERM)."""
    uvicorn.Server(server_config(app, settings, host=host, port=port)).run()
