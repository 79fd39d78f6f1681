"""One Garmin client per account, kept by a worker process across that account's runs.

Building a client costs more than a quiet activity check itself: decrypting the tokens, garth's
configure (sessions, adapters, retries) and a new TCP/TLS connection to Garmin. A process keeps
the last `MAX_CLIENTS` clients it built (least recently used out), each with the sealed tokens
it was built from: when the stored tokens differ (another process refreshed them, or new tokens
were connected) the client is built again, so a client never outlives its credential. Only the
holder of the account's lock uses its client, so one client is never used by two runs at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sync.garmin.source import GarminSource

MAX_CLIENTS = 128  # each may hold an open connection: a bound on sockets, not only on memory

_lock = threading.Lock()
_clients: OrderedDict[tuple[str, int], tuple[bytes, GarminSource]] = OrderedDict()


def cached(key: tuple[str, int], sealed: bytes) -> GarminSource | None:
    """The client kept for `key` (database URL, account id) if built from `sealed` tokens."""
    with _lock:
        hit = _clients.get(key)
        if hit is None or hit[0] != sealed:
            return None
        _clients.move_to_end(key)
        return hit[1]


def keep(key: tuple[str, int], sealed: bytes, client: GarminSource) -> None:
    """Keep `client` (built from, or refreshed to, `sealed`) for the account's next run."""
    with _lock:
        _clients[key] = (sealed, client)
        _clients.move_to_end(key)
        while len(_clients) > MAX_CLIENTS:
            _clients.popitem(last=False)


def forget_clients() -> None:
    """Drop every kept client (after a fork: a child must not share its parent's sockets)."""
    with _lock:
        _clients.clear()
