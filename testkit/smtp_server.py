"""A real SMTP server on loopback (aiosmtpd) that records what it accepts and can be told to fail.

Besides refusing (`fail_data`, `refuse_rcpt`) it can end a session the ambiguous ways of issue 18:
after keeping a message, answer its final dot late (`after_dot` "late": past the client's
timeout) or not at all (`after_dot` "drop": the connection is cut), and answer QUIT with
`quit_reply` (e.g. 421) instead of 221.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


@dataclass
class SmtpRecorder:
    """aiosmtpd handler: keeps accepted messages; `fail_data` / `refuse_rcpt` script failures."""

    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # the same messages, as the bytes on the wire
    fail_data: list[str] = field(default_factory=list)  # replies used (and consumed) for DATA
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> reply, or "drop"
    # What follows a kept message, consumed one per message: "late" (the 250 after `late_s`),
    # "drop" (the connection closed without a reply); nothing left means an immediate 250.
    after_dot: list[str] = field(default_factory=list)
    late_s: float = 3.0
    quit_reply: str | None = None  # e.g. "421 4.3.2 Shutting down" or "drop"; None: the normal 221
    # Per recipient, consumed one per DATA (before the lists above): "ok", "late", "drop",
    # "quit421" (kept, then QUIT answered 421), "quitdrop" (kept, then QUIT unanswered: the
    # connection is cut), or a reply such as "451 ..." (not kept).
    plan: dict[str, list[str]] = field(default_factory=dict)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if address in self.refuse_rcpt:
            reply = self.refuse_rcpt[address]
            if reply == "drop":  # the connection cut before the message: it cannot have arrived
                server.transport.abort()
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        with self.lock:
            self.attempts += 1
            planned = self.plan.get(envelope.rcpt_tos[0]) if envelope.rcpt_tos else None
            ending = planned.pop(0) if planned else None
            if ending is None and self.fail_data:
                return self.fail_data.pop(0)
            if ending is not None and ending[:1].isdigit():
                return ending
            parsed = email.message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append(parsed)
            self.raw.append(envelope.original_content or envelope.content)
            if ending is None:
                ending = self.after_dot.pop(0) if self.after_dot else "ok"
        if ending == "quit421":
            session.legday_quit = "421 4.3.2 Service shutting down"
        elif ending == "quitdrop":
            session.legday_quit = "drop"
        elif ending == "late":
            await asyncio.sleep(self.late_s)
        elif ending == "drop":
            server.transport.abort()  # kept, but the client never hears so
            return "250 Message accepted (never arrives)"
        return "250 Message accepted"

    async def handle_QUIT(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        reply = getattr(session, "legday_quit", None) or self.quit_reply or "221 Bye"
        if reply == "drop":  # hang up instead of answering QUIT
            server.transport.abort()
        return reply

    def to(self, address: str) -> list[EmailMessage]:
        """The accepted messages addressed to `address`."""
        return [m for m in self.messages if m["To"] == address]


@dataclass
class SmtpServer:
    """Where the server listens and what it recorded."""

    host: str
    port: int
    recorder: SmtpRecorder


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1; LEGDAY_SMTP_* point at it (no TLS, no login)."""
    recorder = SmtpRecorder()
    for attempt in range(5):  # another xdist worker may bind the free port first: take another
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except (OSError, RuntimeError):
            if attempt == 4:
                raise
    monkeypatch.setenv("LEGDAY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LEGDAY_SMTP_PORT", str(port))
    monkeypatch.setenv("LEGDAY_SMTP_SECURITY", "none")
    monkeypatch.setenv("LEGDAY_SMTP_TIMEOUT_S", "5")
    monkeypatch.setenv("LEGDAY_MAIL_FROM", "legday <legday@example.org>")
    try:
        yield SmtpServer("127.0.0.1", port, recorder)
    finally:
        controller.stop()
