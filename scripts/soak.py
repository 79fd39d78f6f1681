"""`make soak`: the long reliability runs, ending in one table (fault/attack, runs, expected, observed).

What it runs (each in its own child process; see docs/reliability.md):
- the fuzz of the FIT decoder, both ZIP readers and context JSON bytes (testkit/fuzz_harness.py),
  thousands of inputs per target, under RLIMIT_AS (1 GiB by default) and a per-input time
  bound that is asserted here, never in the normal suite;
- a replay of the inputs that once failed (tests/fixtures/fuzz/);
- the secret-leak test (tests/integration/test_secret_leaks.py) on SQLite and PostgreSQL.

Rows for the crash and chaos runs of issue 12 (SIGKILLed workers, Redis/PostgreSQL restarts,
Garmin chaos across 50 athletes) are printed as "not yet run" until someone adds them here.
Exit status: 0 when every row that ran matched its expectation, 1 otherwise.
Run from the repository root: `.venv/bin/python scripts/soak.py [--scale 0.1] [--seed N]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so `testkit.fuzz_harness` imports when run as a script

from testkit.fuzz_harness import FUZZ_FIXTURES, run_in_child  # noqa: E402

# Inputs per target for the full soak: about 14,000 in all, ~10-20 minutes on 2 cores.
INPUTS = {"fit": 6000, "zip_iter": 2500, "zip_single": 2500, "context": 3000}
LABELS = {
    "fit": "fuzz: FIT decoder (decode_fit)",
    "zip_iter": "fuzz: export ZIP (iter_fit_members)",
    "zip_single": "fuzz: download ZIP (safe_extract_single_fit)",
    "context": "fuzz: context JSON bytes (+ evaluate)",
}
EXPECTED = {
    "fit": "DecodedFile or FitDecodeError",
    "zip_iter": "Members or UnsafeArchiveError",
    "zip_single": "(name, bytes) or UnsafeArchiveError",
    "context": "Verdict or ContextError; json.loads ValueError",
}
NOT_YET_RUN = [
    ("crash: SIGKILL worker during backfill (>= 20 kills)", "all data once, verdicts, 1 email each"),
    ("crash: Redis restart mid-backfill", "all data once, verdicts, 1 email each"),
    ("crash: PostgreSQL restart mid-backfill", "all data once, verdicts, 1 email each"),
    ("crash: beat killed around send time", "exactly one email per athlete-day"),
    ("chaos: Garmin 429/5xx/reset/stall, 50 athletes", "converges, no hot loop, re-auth mailed once"),
]


@dataclass
class Row:
    """One line of the table."""

    what: str
    runs: str
    expected: str
    observed: str
    ok: bool | None  # None: not run
    details: str = ""


def fuzz_rows(scale: float, seed: int, memory_mib: int, per_input_s: float, save: Path) -> list[Row]:
    """One child per target; the per-input time bound is checked here."""
    rows = []
    for target, full in INPUTS.items():
        n = max(50, int(full * scale))
        args = ["--target", target, "--inputs", str(n), "--seed", str(seed), "--memory-mib", str(memory_mib)]
        args += [
            "--max-fit-bytes",
            str(450 * 1024),
            "--time-limit",
            str(per_input_s * 6),
            "--save-dir",
            str(save),
        ]
        started = time.monotonic()
        (s,) = run_in_child(*args)
        took = time.monotonic() - started
        slow = s["max_seconds"] > per_input_s
        ok = not s["failures"] and s["inputs"] == n and not slow
        if s["failures"]:
            kinds = sorted({f["error"][:60] for f in s["failures"]})[:3]
            observed = f"{len(s['failures'])} FAILED ({'; '.join(kinds)})"
        else:
            observed = "0 other exceptions"
        observed += f"; max {s['max_seconds']:.2f} s/input{' > BOUND' if slow else ''}"
        observed += f"; peak {s['peak_rss_mib']:.0f} MiB"
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(s["outcomes"].items()))
        details = (
            f"outcomes: {outcomes}; bound {per_input_s:g} s/input, RLIMIT_AS {s['memory_limit_mib']} MiB, "
            f"largest input {s['max_input_bytes']} B, slowest: {s['slowest']}, {took:.0f} s"
        )
        if s["known"]:
            known = ", ".join(f"{k} {v}" for k, v in s["known"].items())
            details += f"; stdlib json.loads RecursionError (context_from_json_bytes refuses it): {known}"
        rows.append(Row(LABELS[target], str(s["inputs"]), EXPECTED[target], observed, ok, details))
    return rows


def replay_row(memory_mib: int) -> Row:
    """The inputs that once failed, replayed."""
    saved = sorted(FUZZ_FIXTURES.glob("*.bin"))
    summaries = list(run_in_child("--replay", str(FUZZ_FIXTURES), "--memory-mib", str(memory_mib)))
    runs = sum(s["inputs"] for s in summaries)
    failures = [f for s in summaries for f in s["failures"]]
    ok = runs == len(saved) and not failures
    observed = "all refused with our own errors" if not failures else f"{len(failures)} FAILED"
    details = ", ".join(p.name for p in saved)
    return Row(
        "fuzz regressions (tests/fixtures/fuzz)", str(runs), "our own errors only", observed, ok, details
    )


def leak_row(repeat: int) -> Row:
    """The secret-leak test, run `repeat` times (both databases each time)."""
    passed = failed = 0
    last = ""
    for _ in range(repeat):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/integration/test_secret_leaks.py",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        last = (result.stdout.strip().splitlines() or [""])[-1]
        if result.returncode == 0:
            passed += 1
        else:
            failed += 1
    observed = f"{passed} passed, {failed} failed (last: {last})"
    return Row(
        "attack: secrets in logs/tracebacks/DB dump (Garmin 401, SMTP 535/550, crashing task)",
        str(repeat),
        "no token, refresh token, SMTP password, report secret or bearer token anywhere",
        observed,
        failed == 0,
    )


def print_table(rows: list[Row]) -> None:
    """A Markdown table, one row per fault or attack, then the details of each row."""
    print("| fault/attack | runs | expected | observed | result |")
    print("|---|---|---|---|---|")
    for r in rows:
        result = {True: "ok", False: "FAIL", None: "not yet run"}[r.ok]
        print(f"| {r.what} | {r.runs} | {r.expected} | {r.observed} | {result} |")
    print()
    for r in rows:
        if r.details:
            print(f"- {r.what}: {r.details}")


def main() -> int:
    """Run everything, print the table, exit 1 if a row failed."""
    parser = argparse.ArgumentParser(description="The long reliability runs of issue 12.")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full input counts")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--memory-mib", type=int, default=1024)
    parser.add_argument("--per-input-seconds", type=float, default=10.0, help="asserted bound per input")
    parser.add_argument("--leak-runs", type=int, default=3)
    parser.add_argument("--save-dir", type=Path, default=ROOT / ".soak" / "failures")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    args = parser.parse_args()
    started = time.monotonic()
    rows = fuzz_rows(args.scale, args.seed, args.memory_mib, args.per_input_seconds, args.save_dir)
    rows.append(replay_row(args.memory_mib))
    rows.append(leak_row(args.leak_runs))
    rows += [Row(what, "0", expected, "not yet run", None) for what, expected in NOT_YET_RUN]
    print_table(rows)
    total = sum(int(r.runs) for r in rows[: len(INPUTS)])
    print(f"\n{total} fuzz inputs, seed {args.seed}, {time.monotonic() - started:.0f} s in all")
    if any(r.ok is False for r in rows):
        print(f"failing inputs (if any) are in {args.save_dir}")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=2))
    return 1 if any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
