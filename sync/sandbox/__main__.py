"""`python -m sync.sandbox [PORT] [FIT_DIR]`: the sandbox without the legday CLI."""

from __future__ import annotations

import sys
from pathlib import Path

from sync.sandbox.server import Sandbox


def main(argv: list[str]) -> None:
    """Serve until Ctrl-C."""
    port = int(argv[0]) if argv else 8765
    fit_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2] / "samples"
    sandbox = Sandbox(fit_dir=fit_dir, port=port)
    sandbox.start()
    print(f"Garmin sandbox at {sandbox.url} ({len(sandbox.account.activities)} activities); Ctrl-C stops")
    sandbox.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
