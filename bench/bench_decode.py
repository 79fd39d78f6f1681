"""Benchmark legday's FIT decoder against plain fitparse and other decoders, side by side.

    python bench/bench_decode.py [--corpus DIR] [--rounds N] [--no-memory]
                                 [--before OLD_DECODE_PY [--before-crc OLD_CRC_PY]]

Speed: every round walks the corpus and, per file, runs every decoder back to back (the order
rotates per file and round), so machine noise hits all alike. Each round gives each decoder's
ratio to plain `fitparse.FitFile(path).get_messages()` (its time over the decoder's time, on
the same files); the figures are the MEDIANS of those per-round ratios, and throughput is
fitparse's message count over the decoder's median round time. Only files plain fitparse
reads without error are timed.

Decoders: fitparse (the yardstick); legday `decode_fit` with the CRC checked (what users get:
the headline), without it (re-decodes of checked bytes), and `decode_fit_reference` (every
message through fitparse in full: the slow path the fast one is tested against). With
`--before PATH` a `decode.py` of an older checkout (`git show REV:sync/fit/decode.py > PATH`)
is timed too, with `--before-crc PATH` its CRC from that checkout's `sync/fit/crc.py` (else
this tree's). Garmin's `garmin-fit-sdk` (everything on; and its options off) and `fitdecode`
(no processor, CRC off: its cheapest mode) join when installed (`pip install garmin-fit-sdk
fitdecode`; bench only, not legday dependencies).

Memory: each decoder runs once on the large multisport file in a fresh subprocess, which
reports its peak RSS growth after imports (ru_maxrss after - before) and, in another run,
tracemalloc's peak.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

LARGE = "large/fenix2-multisport-large-01.fit"
Decoder = Callable[[str, bytes], object]


def _fitparse(path: str, data: bytes) -> None:
    import fitparse

    for _ in fitparse.FitFile(path).get_messages():
        pass


def _legday(check_crc: bool) -> Decoder:
    from sync.fit.decode import decode_fit

    return lambda _path, data: decode_fit(data, check_crc=check_crc)


def _legday_reference(_path: str, data: bytes) -> object:
    from sync.fit.decode import decode_fit_reference

    return decode_fit_reference(data, check_crc=True)


def _load(name: str, path: str) -> object:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _before(path_to_decode_py: str, path_to_crc_py: str | None) -> Decoder:
    """`decode_fit` from another checkout's decode.py (its imports resolve to this tree), with
    that checkout's `fit_crc` when `path_to_crc_py` is given. Both are modules of their own: the
    tree's `sync.fit` is untouched."""
    module = _load("legday_decode_before", path_to_decode_py)
    if path_to_crc_py:
        module.fit_crc = _load("legday_crc_before", path_to_crc_py).fit_crc
    return lambda _path, data: module.decode_fit(data, check_crc=True)


def _garmin_sdk(options_off: bool) -> Decoder | None:
    try:
        from garmin_fit_sdk import Decoder as SdkDecoder
        from garmin_fit_sdk import Stream
    except ImportError:
        return None
    off = {
        "apply_scale_and_offset": False,
        "convert_datetimes_to_dates": False,
        "convert_types_to_strings": False,
        "enable_crc_check": False,
        "expand_sub_fields": False,
        "expand_components": False,
        "merge_heart_rates": False,
    }

    def run(_path: str, data: bytes) -> object:
        return SdkDecoder(Stream.from_byte_array(bytearray(data))).read(**(off if options_off else {}))

    return run


def _fitdecode() -> Decoder | None:
    try:
        import fitdecode
    except ImportError:
        return None

    def run(_path: str, data: bytes) -> None:
        with fitdecode.FitReader(
            io.BytesIO(data),
            processor=None,
            check_crc=fitdecode.CrcCheck.DISABLED,
            error_handling=fitdecode.ErrorHandling.IGNORE,
        ) as reader:
            for _ in reader:
                pass

    return run


def decoders(before: str | None, before_crc: str | None = None) -> dict[str, Decoder]:
    """Every decoder this run times, the yardstick first, by display name."""
    out: dict[str, Decoder | None] = {
        "fitparse get_messages()": _fitparse,
        "legday decode_fit, CRC on": _legday(True),
        "legday decode_fit, CRC off": _legday(False),
        "legday decode_fit_reference (slow path)": _legday_reference,
        "legday before (--before), CRC on": _before(before, before_crc) if before else None,
        "garmin-fit-sdk, defaults": _garmin_sdk(False),
        "garmin-fit-sdk, options off": _garmin_sdk(True),
        "fitdecode, no processor, CRC off": _fitdecode(),
    }
    return {name: fn for name, fn in out.items() if fn is not None}


_CHILD = r"""
import json, resource, sys, tracemalloc
sys.path.insert(0, {repo!r})
sys.path.insert(0, {bench!r})
import bench_decode
path, which, mode = sys.argv[1], sys.argv[2], sys.argv[3]
decode = bench_decode.decoders(sys.argv[4] or None, sys.argv[5] or None)[which]
data = open(path, "rb").read()
import fitparse, sync.fit.decode  # libraries loaded before the measurement

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
    return None

try:  # reset the RSS high-water mark so imports do not hide the decode's peak
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before_kib = status("VmRSS:")
except OSError:
    before_kib = None
if before_kib is None:
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "traced":  # tracemalloc's own bookkeeping inflates RSS: separate runs
    tracemalloc.start()
decode(path, data)
peak = tracemalloc.get_traced_memory()[1] if mode == "traced" else 0
after = status("VmHWM:") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"rss_kib": after - before_kib, "traced": peak}}))
"""


def _child(path: Path, which: str, mode: str, before: str | None, before_crc: str | None) -> dict[str, int]:
    code = _CHILD.format(repo=str(REPO), bench=str(REPO / "bench"))
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), which, mode, before or "", before_crc or ""],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


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


def _timed(fn: Decoder, path: str, data: bytes) -> float:
    t0 = time.perf_counter()
    with contextlib.suppress(Exception):  # a decoder that rejects a file still spent the time
        fn(path, data)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print ratios (medians of per-round ratios) and peak memory."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", help="corpus directory (default: settings.corpus_dir)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before", help="a decode.py from an older checkout, timed alongside")
    ap.add_argument("--before-crc", help="with --before: that checkout's sync/fit/crc.py")
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
            files.append((str(path), path.read_bytes(), count))
    messages = sum(c for _, _, c in files)
    decs = decoders(args.before, args.before_crc)
    names = list(decs)
    print(
        f"corpus: {corpus} ({len(files)} of {len(paths)} files readable by fitparse, "
        f"{messages} messages per round, {args.rounds} rounds, {len(names)} decoders)"
    )
    from sync.fit.crc import crc_in_c

    print(f"FIT CRC: crcmod-plus, {'C extension' if crc_in_c() else 'its pure-Python fallback'}")
    for fn in decs.values():  # warm-up: imports and first-use tables outside the timing
        _timed(fn, *files[0][:2])

    rounds: list[dict[str, float]] = []
    for rnd in range(args.rounds):
        spent = dict.fromkeys(names, 0.0)
        for i, (path, data, _) in enumerate(files):
            shift = (i + rnd) % len(names)  # rotate who goes first
            for name in names[shift:] + names[:shift]:
                spent[name] += _timed(decs[name], path, data)
        rounds.append(spent)

    yard = names[0]
    headline = "legday decode_fit, CRC on"  # what `legday import` does: the figure users get
    ours = statistics.median(r[yard] / r[headline] for r in rounds)
    line = f"\nHEADLINE: legday with the CRC checked is {ours:.1f}x plain fitparse"
    sdk = "garmin-fit-sdk, options off"
    if sdk in decs:
        vs_sdk = statistics.median(r[sdk] / r[headline] for r in rounds)
        line += f", {vs_sdk:.1f}x garmin-fit-sdk with options off"
    print(line)
    print(f"\n{'decoder':42} {'messages/s':>11} {'vs fitparse':>12}  (median of per-round ratios; range)")
    for name in names:
        ratios = [r[yard] / r[name] for r in rounds]
        rate = messages / statistics.median(r[name] for r in rounds)
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"{name:42} {rate:11.0f} {statistics.median(ratios):11.2f}x  ({spread})")

    if not args.no_memory:
        large = corpus / LARGE
        if large.exists():
            print(f"\npeak memory decoding {LARGE} (fresh process each, after imports):")
            for name in names:
                rss = _child(large, name, "rss", args.before, args.before_crc)["rss_kib"]
                traced = _child(large, name, "traced", args.before, args.before_crc)["traced"]
                print(f"{name:42} RSS +{rss / 1024:6.1f} MiB   tracemalloc {traced / 2**20:6.2f} MiB")
        else:
            print(f"{LARGE} not found: memory not measured")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
