"""Benchmark legday's FIT decoder against a plain fitparse pass over the same files.

    python bench/bench_decode.py [--corpus DIR] [--rounds N]

Speed: every round walks the corpus and, per file, times legday's `decode_fit` and a plain
`fitparse.FitFile(path).get_messages()` loop back to back (the order alternates per file
and round), so machine noise hits both alike. Throughput is the plain pass's message count
over each side's total time. Only files plain fitparse reads without error are timed.

Memory: each decoder runs once on the large multisport file in a fresh subprocess, which
reports its peak RSS growth (ru_maxrss after - before) and tracemalloc's peak.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

LARGE = "large/fenix2-multisport-large-01.fit"

_CHILD = r"""
import json, resource, sys, tracemalloc
sys.path.insert(0, {repo!r})
import fitparse
from sync.fit.decode import decode_fit
path, which, mode = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
    return None

try:  # reset the RSS high-water mark so imports do not hide the decode's peak
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS:")
except OSError:
    before = None
if before is None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "traced":  # tracemalloc's own bookkeeping inflates RSS: separate runs
    tracemalloc.start()
if which == "legday":
    decode_fit(data, check_crc=False)
else:
    for _ in fitparse.FitFile(path).get_messages():
        pass
peak = tracemalloc.get_traced_memory()[1] if mode == "traced" else 0
after = status("VmHWM:") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"rss_kib": after - before, "traced": peak}}))
"""


def _corpus_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg).resolve()
    from sync.config import get_settings

    path = Path(get_settings().corpus_dir)
    return path if path.is_absolute() else (REPO / path).resolve()


def _plain_count(path: Path) -> int | None:
    import fitparse

    try:
        return sum(1 for _ in fitparse.FitFile(str(path)).get_messages())
    except Exception:  # noqa: BLE001 - broken files are simply not timed
        return None


def _time_plain(path: Path) -> float:
    import fitparse

    t0 = time.perf_counter()
    for _ in fitparse.FitFile(str(path)).get_messages():
        pass
    return time.perf_counter() - t0


def _time_legday(data: bytes, check_crc: bool) -> float:
    from sync.fit.decode import decode_fit

    t0 = time.perf_counter()
    decode_fit(data, check_crc=check_crc)
    return time.perf_counter() - t0


def _child(path: Path, which: str, mode: str) -> dict[str, int]:
    code = _CHILD.format(repo=str(REPO))
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), which, mode],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _memory(path: Path, which: str) -> dict[str, int]:
    """Peak RSS growth (KiB) of a plain run and tracemalloc's peak (bytes) of another."""
    return {
        "rss_kib": _child(path, which, "rss")["rss_kib"],
        "traced": _child(path, which, "traced")["traced"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print throughput, ratio and peak memory."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", help="corpus directory (default: settings.corpus_dir)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    args = ap.parse_args(argv)

    corpus = _corpus_dir(args.corpus)
    paths = sorted(corpus.rglob("*.fit"))
    if not paths:
        print(f"no .fit files under {corpus}", file=sys.stderr)
        return 2
    files = []
    for path in paths:
        count = _plain_count(path)
        if count:
            files.append((path, path.read_bytes(), count))
    messages_per_round = sum(c for _, _, c in files)
    print(
        f"corpus: {corpus} ({len(files)} of {len(paths)} files readable by fitparse, "
        f"{messages_per_round} messages per round, {args.rounds} rounds)"
    )

    t_plain = t_legday = t_legday_crc = 0.0
    for rnd in range(args.rounds):
        for i, (path, data, _) in enumerate(files):
            if (i + rnd) % 2 == 0:  # alternate who goes first
                t_plain += _time_plain(path)
                t_legday += _time_legday(data, check_crc=False)
                t_legday_crc += _time_legday(data, check_crc=True)
            else:
                t_legday_crc += _time_legday(data, check_crc=True)
                t_legday += _time_legday(data, check_crc=False)
                t_plain += _time_plain(path)
    total = messages_per_round * args.rounds
    plain_rate, legday_rate, crc_rate = total / t_plain, total / t_legday, total / t_legday_crc
    print(f"plain fitparse get_messages():      {plain_rate:10.0f} messages/s")
    print(f"legday decode_fit(check_crc=False): {legday_rate:10.0f} messages/s")
    print(f"legday decode_fit(check_crc=True):  {crc_rate:10.0f} messages/s")
    print(
        f"ratio legday/plain: {legday_rate / plain_rate:.2f}x (with CRC check: {crc_rate / plain_rate:.2f}x)"
    )

    if not args.no_memory:
        large = corpus / LARGE
        if large.exists():
            for which in ("plain", "legday"):
                m = _memory(large, which)
                print(
                    f"peak memory on {LARGE}, {which:6}: "
                    f"RSS +{m['rss_kib'] / 1024:.1f} MiB, tracemalloc {m['traced'] / 2**20:.1f} MiB"
                )
        else:
            print(f"{LARGE} not found: memory not measured")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
