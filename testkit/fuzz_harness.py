"""Mutation fuzzing of legday's byte-level entry points, in a child process with a memory cap.

Targets (each accepts bytes from outside and may only fail with legday's own errors):

- `fit`: `sync.fit.decode.decode_fit` -> a DecodedFile or `FitDecodeError` (one-line reason).
- `zip_iter`: `sync.ingest.archive.iter_fit_members` -> Members, or `UnsafeArchiveError`.
- `zip_single`: `sync.ingest.archive.safe_extract_single_fit` -> (name, bytes) or `UnsafeArchiveError`.
- `context`: `sync.readiness.context_from_json_bytes` (bytes -> json -> DayContext) and, when it
  is valid, `evaluate` -> a Verdict, or `ContextError`. Plain `json.loads` of the same bytes is
  run too and may only raise `ValueError`; a `RecursionError` there is recorded separately as a
  known property of the standard library (`json_loads_recursion`), which is why legday parses
  context bytes through `context_from_json_bytes`.

Inputs are seeds (the shared FIT corpus, ZIPs built from small FIT files, the published
scenario files) run through stacked mutations: bit flips, interesting bytes, truncations,
splices, header/size field edits, chunk inserts/deletes/duplicates, deep nesting, random
bytes. Hypothesis drives the choices (`st.randoms`), seeded, so a run is reproducible.

Run it in a child process, never inside the test runner: `python -m testkit.fuzz_harness` sets
RLIMIT_AS first, so an input that tries to allocate without bound ends as a recorded
MemoryError instead of taking the machine down. `run_in_child` does that and returns the JSON
summary. Inputs that fail are written to `--save-dir` (keep the small ones in
tests/fixtures/fuzz/ as regression inputs: `--replay` runs every file there).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import resource
import signal
import subprocess
import sys
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_FIT = ROOT / "tests" / "fixtures" / "fit"
FUZZ_FIXTURES = ROOT / "tests" / "fixtures" / "fuzz"
SHARED = ROOT.parent / "shared"
TARGETS = ("fit", "zip_iter", "zip_single", "context")


# ---------------------------------------------------------------------------------------
# Seeds


def _fit_files(max_bytes: int) -> list[Path]:
    """FIT seeds: the shared corpus when it is there, always the repository's fixtures."""
    paths = sorted((SHARED / "corpus" / "fit").rglob("*.fit")) + sorted(FIXTURE_FIT.glob("*.fit"))
    return [p for p in paths if p.stat().st_size <= max_bytes]


def _zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members:
            if name.endswith("/"):
                zf.writestr(zipfile.ZipInfo(name), b"")
            else:
                zf.writestr(name, data)
    return buf.getvalue()


def _small_fits() -> list[bytes]:
    # Small members keep ZIP inputs fast; their FIT content is not what the ZIP targets test.
    return [p.read_bytes() for p in sorted(FIXTURE_FIT.glob("*.fit"))]


def zip_seeds(single: bool) -> list[bytes]:
    """Garmin download ZIPs (one member) or export ZIPs (several, nested, hostile names)."""
    fits = _small_fits()
    if single:
        return [
            _zip([("123.fit", fits[0])]),
            _zip([("9_ACTIVITY.fit", fits[1])], zipfile.ZIP_STORED),
            _zip([("a.FIT", fits[2])]),
        ]
    inner = _zip([("inner-1.fit", fits[0]), ("inner-2.fit", fits[3])])
    return [
        _zip([("DI_CONNECT/", b""), ("DI_CONNECT/a.fit", fits[0]), ("DI_CONNECT/b.fit", fits[1])]),
        _zip([("export/uploaded.zip", inner), ("export/c.fit", fits[2]), ("notes.txt", b"hello")]),
        _zip([("../escape.fit", fits[4]), ("ok.fit", fits[1])], zipfile.ZIP_STORED),
        _zip([("one.fit", fits[2])], zipfile.ZIP_STORED),
    ]


_BUILTIN_CONTEXTS = [
    b'{"now": "2026-03-11T06:30:00+01:00"}',
    b'{"context": {"now": "2026-03-11T06:30:00Z", "soreness": 5, "sleep_hours": 5.5, '
    b'"hrv_ms": {"2026-03-10": 42.0, "2026-03-09": 55}, "resting_hr": {"2026-03-10": 61}, '
    b'"daily_load": {"2026-03-10": 80.5}, "acwr": 1.7, "garmin_recovery_hours": 12, '
    b'"athlete": {"sex": "female", "max_hr": 188, "rest_hr": 48}, "strength": [{"end": '
    b'"2026-03-10T18:00:00Z", "sets": [{"category": "squat", "reps": 5, "weight_kg": 100}, '
    b'{"category": 28, "set_type": "rest"}, {"category": "total_body", "warm_up": true}]}]}}',
]


def context_seeds() -> list[bytes]:
    """The published scenario files (when ../shared is there) and two built-in contexts."""
    found = sorted((SHARED / "scenarios").glob("*.json"))
    return [p.read_bytes() for p in found] + _BUILTIN_CONTEXTS


def seeds_for(target: str, max_fit_bytes: int) -> list[bytes]:
    """The seed inputs of a target."""
    if target == "fit":
        return [p.read_bytes() for p in _fit_files(max_fit_bytes)]
    if target in ("zip_iter", "zip_single"):
        return zip_seeds(single=target == "zip_single")
    if target == "context":
        return context_seeds()
    raise ValueError(f"unknown target {target!r}")


# ---------------------------------------------------------------------------------------
# Mutations: each takes the random source, the input and the target's seeds


INTERESTING_INTS = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)
FIT_HEADER_FIELDS = ((0, 1), (1, 1), (2, 2), (4, 4), (12, 2))  # size, protocol, profile, data size, CRC
# ZIP record signature -> (offset, width) of its size/count/offset fields
ZIP_FIELDS = {
    b"PK\x03\x04": ((6, 2), (8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2)),
    b"PK\x01\x02": ((10, 2), (16, 4), (20, 4), (24, 4), (28, 2), (30, 2), (32, 2), (42, 4)),
    b"PK\x05\x06": ((4, 2), (8, 2), (10, 2), (12, 4), (16, 4), (20, 2)),
}


def _put_int(data: bytearray, at: int, width: int, value: int) -> None:
    value &= (1 << (8 * width)) - 1
    if at + width <= len(data):
        data[at : at + width] = value.to_bytes(width, "little")


def _find_all(data: bytes, needle: bytes, limit: int) -> list[int]:
    """Offsets of the first `limit` occurrences of `needle`."""
    found: list[int] = []
    at = data.find(needle)
    while at >= 0 and len(found) < limit:
        found.append(at)
        at = data.find(needle, at + 1)
    return found


def bit_flip(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """Flip 1-8 random bits."""
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def interesting_bytes(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """Overwrite a random 1/2/4-byte spot with a boundary value (0, 0x7F, 0xFF..., 2**32-1)."""
    if not data:
        return data
    out = bytearray(data)
    width = rng.choice((1, 2, 4))
    _put_int(out, rng.randrange(len(out)), width, rng.choice(INTERESTING_INTS))
    return bytes(out)


def truncate(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """Cut the input short (anywhere, often near either end)."""
    if not data:
        return data
    where = rng.choice(("any", "head", "tail"))
    if where == "head":
        return data[: rng.randrange(min(len(data), 64))]
    if where == "tail":
        return data[: max(0, len(data) - rng.randint(1, 64))]
    return data[: rng.randrange(len(data))]


def splice(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """This input's head followed by another seed's tail."""
    other = seeds[rng.randrange(len(seeds))]
    head = data[: rng.randint(0, len(data))]
    return head + other[rng.randint(0, len(other)) :]


def field_edit(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """Set a size/count/offset field of a FIT header or ZIP record to a boundary value."""
    out = bytearray(data)
    value = rng.choice(INTERESTING_INTS + (len(data), len(data) * 1000, len(data) - 1))
    signatures = [sig for sig in ZIP_FIELDS if sig in data]
    if signatures:  # a ZIP: pick one of its records
        sig = rng.choice(signatures)
        starts = _find_all(data, sig, limit=50)
        at, width = rng.choice(ZIP_FIELDS[sig])
        _put_int(out, rng.choice(starts) + at, width, value)
    elif data[:1] in (b"\x0c", b"\x0e"):  # a FIT header
        at, width = rng.choice(FIT_HEADER_FIELDS)
        _put_int(out, at, width, value)
    elif out:
        _put_int(out, rng.randrange(len(out)), rng.choice((1, 2, 4)), value)
    return bytes(out)


def definition_edit(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """Change a FIT definition message's field count or one field's size/base type.

    A definition record header has bit 6 set and bit 7 clear; its field count is 5 bytes after
    it, and each field is (number, size, base type). Random bytes that look like a header are
    edited too, which is as hostile as the real thing.
    """
    if len(data) < 20:
        return data
    out = bytearray(data)
    candidates = [i for i in range(14, min(len(data) - 6, 4096)) if data[i] & 0xC0 == 0x40]
    if not candidates:
        return bit_flip(rng, data, seeds)
    at = rng.choice(candidates)
    n_fields_at = at + 5
    if rng.random() < 0.3:
        out[n_fields_at] = rng.choice((0, 1, 0x7F, 0xFF))
    else:
        field_at = n_fields_at + 1 + 3 * rng.randrange(max(1, data[n_fields_at]))
        if field_at + 2 < len(out):
            out[field_at + rng.choice((1, 2))] = rng.choice((0, 1, 3, 0x7F, 0x80, 0x84, 0x8C, 0xFF))
    return bytes(out)


def chunk_edit(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """Insert random bytes, delete a chunk, or duplicate a chunk somewhere else."""
    at = rng.randint(0, len(data))
    size = rng.randint(1, 64)
    kind = rng.choice(("insert", "delete", "duplicate"))
    if kind == "insert":
        return data[:at] + rng.randbytes(size) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + size :]
    chunk = data[at : at + size]
    to = rng.randint(0, len(data))
    return data[:to] + chunk * rng.randint(1, 4) + data[to:]


def random_bytes(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """Bytes with no relation to the seed, sometimes behind a valid-looking header."""
    body = rng.randbytes(rng.randint(0, 256))
    prefix = rng.choice((b"", data[:14], data[:30], b"PK\x03\x04", b'{"now": '))
    return prefix + body


def json_edit(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """JSON-aware edits: extreme numbers, wrong types, deep nesting, bad encodings."""
    replacements = (
        b"1e309",
        b"-1",
        b"NaN",
        b"Infinity",
        b"9" * 5000,  # past Python's int digit limit
        b"true",
        b"null",
        b'"\\ud800"',  # a lone surrogate
        b'"2026-02-30T00:00:00Z"',
        b'"0001-01-01T00:00:00+14:00"',
        b'"9999-12-31T23:59:59-12:00"',
        b"[]",
        b"{}",
        b'"\xff\xfe"',  # not UTF-8
    )
    kind = rng.choice(("value", "nest", "bom", "dupkey"))
    if kind == "nest":
        depth = rng.choice((10, 500, 5000, 100_000))
        return b"[" * depth + data + b"]" * depth
    if kind == "bom":
        return rng.choice((b"\xef\xbb\xbf", b"\xff\xfe", b"\x00")) + data
    if kind == "dupkey" and data.startswith(b"{"):
        return b'{"now": 5, ' + data[1:]
    positions = [i for i, c in enumerate(data) if c in b":,["]
    if not positions:
        return data + rng.choice(replacements)
    at = rng.choice(positions) + 1
    end = at
    while end < len(data) and data[end] not in b",}]":
        end += 1
    return data[:at] + rng.choice(replacements) + data[end:]


_LEAVES: tuple[Any, ...] = (
    0,
    -1,
    0.0001,
    1e300,
    -1e300,
    10**30,
    24,
    24.01,
    True,
    None,
    "",
    " RUN ",
    "squat",
    "total_body",
    "65535",
    "2026-03-10",
    "0001-01-01",
    "9999-12-31",
    "2026-03-11T06:30:00Z",
    "0001-01-01T00:00:00+00:00",
    "0001-01-02T03:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "2026-03-11T06:30:00",
    [],
    {},
    {"2026-03-10": 50},
    {"0001-01-01": 50, "9999-12-31": 1},
    [{"end": "2026-03-10T18:00:00Z", "sets": [{"category": "squat"}] * 8}],
)


_HOT_KEYS = frozenset({"context", "now", "end", "strength", "sets"})


def _edit_tree(rng: random.Random, node: Any, depth: int = 0) -> Any:
    """A copy of a JSON value with one random leaf, key or element changed."""
    if isinstance(node, dict) and node and depth < 6:
        keys = sorted(node, key=str)
        hot = [k for k in keys if k in _HOT_KEYS]
        # Times and the wrapper reach the most code: pick them half of the time.
        key = rng.choice(hot) if hot and rng.random() < 0.5 else rng.choice(keys)
        out = dict(node)
        kind = rng.randrange(6)
        if kind == 0:
            del out[key]
        elif kind == 1:  # a date-keyed series gets an extreme day; anything else a stray key
            out[rng.choice(("0001-01-01", "9999-12-31", "2026-02-29", "extra"))] = rng.choice(_LEAVES)
        else:
            out[key] = _edit_tree(rng, node[key], depth + 1)
        return out
    if isinstance(node, list) and node and depth < 6:
        i = rng.randrange(len(node))
        out_list = list(node)
        kind = rng.randrange(4)
        if kind == 0:
            out_list.append(out_list[i])
        elif kind == 1:
            del out_list[i]
        else:
            out_list[i] = _edit_tree(rng, node[i], depth + 1)
        return out_list
    return rng.choice(_LEAVES)


def json_tree_edit(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """Parse the input (or a seed when it is no longer JSON), change the tree, serialise it.

    Unlike byte-level mutations, the result is valid JSON, so the context checks and the model
    itself are reached: extreme dates, huge or tiny numbers, wrong types, missing keys.
    """
    try:
        tree = json.loads(data)
    except (ValueError, RecursionError):
        tree = json.loads(seeds[rng.randrange(len(seeds))])
    for _ in range(rng.randint(1, 3)):
        tree = _edit_tree(rng, tree)
    return json.dumps(tree).encode()


Mutator = Callable[[random.Random, bytes, list[bytes]], bytes]
COMMON: tuple[Mutator, ...] = (bit_flip, interesting_bytes, truncate, splice, chunk_edit, random_bytes)
MUTATORS: dict[str, tuple[Mutator, ...]] = {
    "fit": COMMON + (field_edit, definition_edit, definition_edit),
    "zip_iter": COMMON + (field_edit, field_edit),
    "zip_single": COMMON + (field_edit, field_edit),
    "context": COMMON + (json_edit, json_edit, json_edit) + (json_tree_edit,) * 6,
}


def mutate(rng: random.Random, target: str, seeds: list[bytes]) -> tuple[bytes, str]:
    """One fuzz input: a seed with 1-3 stacked mutations, and a description of them."""
    index = rng.randrange(len(seeds))
    data = seeds[index]
    steps = []
    for _ in range(rng.randint(1, 3)):
        mutator = rng.choice(MUTATORS[target])
        data = mutator(rng, data, seeds)
        steps.append(mutator.__name__)
    return data, f"seed {index} + {' + '.join(steps)}"


# ---------------------------------------------------------------------------------------
# Targets: what may come out of each


class InputTimeout(BaseException):
    """One input ran past the per-input time limit (soak only)."""


def _check_fit(data: bytes) -> str:
    from sync.errors import FitDecodeError
    from sync.fit import DecodedFile
    from sync.fit.decode import decode_fit

    try:
        result = decode_fit(data)
    except FitDecodeError as exc:
        if not exc.reason or "\n" in exc.reason:
            raise AssertionError(f"FitDecodeError reason is not one line: {exc.reason!r}") from None
        return "refused"
    if not isinstance(result, DecodedFile):
        raise AssertionError(f"decode_fit returned {type(result).__name__}")
    return "decoded" if result.crc_ok else "decoded, bad CRC"


_LIMITS: Any = None


def _limits() -> Any:
    global _LIMITS
    if _LIMITS is None:
        from sync.ingest.archive import ArchiveLimits

        # Smaller than the defaults so a bomb is refused fast; the logic is the same.
        _LIMITS = ArchiveLimits(max_member_bytes=4 * 1024 * 1024, max_total_bytes=16 * 1024 * 1024)
    return _LIMITS


def _check_zip_iter(data: bytes) -> str:
    from sync.errors import UnsafeArchiveError
    from sync.ingest.archive import iter_fit_members

    try:
        members = list(iter_fit_members(data, _limits()))
    except UnsafeArchiveError as exc:
        if not exc.reason:
            raise AssertionError("UnsafeArchiveError without a reason") from None
        return "refused"
    for member in members:
        if (member.data is None) == (member.refused is None):
            raise AssertionError(f"member {member.name!r} has both or neither of data/refused")
        if member.data is not None and len(member.data) > _limits().max_member_bytes:
            raise AssertionError(f"member {member.name!r} is larger than the member cap")
    return "read" if all(m.data is not None for m in members) else "read, some members refused"


def _check_zip_single(data: bytes) -> str:
    from sync.errors import UnsafeArchiveError
    from sync.ingest.archive import safe_extract_single_fit

    try:
        name, body = safe_extract_single_fit(data, _limits())
    except UnsafeArchiveError as exc:
        if not exc.reason:
            raise AssertionError("UnsafeArchiveError without a reason") from None
        return "refused"
    if not name.lower().endswith(".fit") or len(body) > _limits().max_member_bytes:
        raise AssertionError(f"accepted {name!r} ({len(body)} bytes)")
    return "extracted"


class JsonLoadsRecursion(Exception):
    """json.loads itself hit the recursion limit (not legday code; recorded separately)."""


def _check_context(data: bytes) -> str:
    from sync.readiness import ContextError, context_from_json_bytes, evaluate

    outcome = "refused"
    try:
        ctx = context_from_json_bytes(data)
    except ContextError as exc:
        if not str(exc) or "\n" in str(exc):
            raise AssertionError(f"ContextError is not one line: {str(exc)[:200]!r}") from None
    else:
        outcome = f"verdict {evaluate(ctx).flag}"  # a valid context always gets a verdict
    try:
        json.loads(data)
    except ValueError:
        pass
    except RecursionError:
        raise JsonLoadsRecursion("json.loads: maximum recursion depth exceeded") from None
    return outcome


CHECKS: dict[str, Callable[[bytes], str]] = {
    "fit": _check_fit,
    "zip_iter": _check_zip_iter,
    "zip_single": _check_zip_single,
    "context": _check_context,
}


# ---------------------------------------------------------------------------------------
# Running


@dataclass
class Summary:
    """What one run of one target did (printed as JSON by the child)."""

    target: str
    inputs: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)  # expected outcomes, counted
    known: dict[str, int] = field(default_factory=dict)  # known stdlib behaviour, counted
    max_seconds: float = 0.0
    slowest: str = ""
    max_input_bytes: int = 0
    peak_rss_mib: float = 0.0
    memory_limit_mib: int = 0


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _on_alarm(signum: int, frame: Any) -> None:
    raise InputTimeout("input ran past the per-input time limit")


def run_one(
    summary: Summary, data: bytes, label: str, save_dir: Path | None, time_limit: float | None
) -> None:
    """Run one input through its target and record what came out."""
    check = CHECKS[summary.target]
    summary.inputs += 1
    summary.max_input_bytes = max(summary.max_input_bytes, len(data))
    if time_limit:
        signal.setitimer(signal.ITIMER_REAL, time_limit)
    start = time.perf_counter()
    try:
        outcome = check(data)
        summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
    except JsonLoadsRecursion:
        summary.known["json_loads_recursion"] = summary.known.get("json_loads_recursion", 0) + 1
    except (Exception, InputTimeout, RecursionError) as exc:  # noqa: BLE001 - recorded, not hidden
        digest = hashlib.sha256(data).hexdigest()[:12]
        saved = ""
        if save_dir is not None:
            save_dir.mkdir(parents=True, exist_ok=True)
            path = save_dir / f"{summary.target}-{digest}.bin"
            path.write_bytes(data)
            saved = str(path)
        summary.failures.append(
            {
                "error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
                "input": label,
                "sha": digest,
                "bytes": str(len(data)),
                "saved": saved,
                "where": traceback.format_exc(limit=-3)[-1500:],
            }
        )
    finally:
        if time_limit:
            signal.setitimer(signal.ITIMER_REAL, 0)
    elapsed = time.perf_counter() - start
    if elapsed > summary.max_seconds:
        summary.max_seconds, summary.slowest = elapsed, label
        if save_dir is not None and elapsed > 1.0:  # keep the slowest input to look at later
            save_dir.mkdir(parents=True, exist_ok=True)
            (save_dir / f"slowest-{summary.target}.bin").write_bytes(data)


def fuzz(
    target: str,
    inputs: int,
    seed: int,
    *,
    max_fit_bytes: int,
    save_dir: Path | None,
    time_limit: float | None,
) -> Summary:
    """Run `inputs` mutated inputs through `target`; hypothesis makes the random choices."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    seeds = seeds_for(target, max_fit_bytes)
    summary = Summary(target)
    for i, original in enumerate(seeds):  # every seed once, unmutated
        if summary.inputs < inputs:
            run_one(summary, original, f"seed {i} unmutated", save_dir, time_limit)
    remaining = inputs - summary.inputs
    if remaining > 0:

        @hypothesis_seed(seed)
        @settings(
            max_examples=remaining,
            database=None,
            deadline=None,
            phases=[Phase.generate],  # failures are recorded, not raised: nothing to shrink
            suppress_health_check=list(HealthCheck),
        )
        @given(rng=st.randoms(use_true_random=False))
        def one(rng: random.Random) -> None:
            data, label = mutate(rng, target, seeds)
            run_one(summary, data, label, save_dir, time_limit)

        one()
    return summary


def replay(directory: Path, time_limit: float | None) -> list[Summary]:
    """Run every saved input `<target>-<sha>.bin` of `directory` through its target."""
    out: dict[str, Summary] = {}
    for path in sorted(directory.glob("*.bin")):
        target = path.name.rsplit("-", 1)[0]
        if target not in CHECKS:
            raise SystemExit(f"{path.name}: unknown target {target!r}")
        summary = out.setdefault(target, Summary(target))
        run_one(summary, path.read_bytes(), path.name, None, time_limit)
    return list(out.values())


def limit_memory(mib: int) -> None:
    """Cap this process's address space (RLIMIT_AS): past it, allocations raise MemoryError."""
    cap = mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def main(argv: list[str] | None = None) -> int:
    """Child-process entry point: cap memory, run, print one JSON line per target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=TARGETS, action="append")
    parser.add_argument("--inputs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--max-fit-bytes", type=int, default=64 * 1024)
    parser.add_argument("--memory-mib", type=int, default=1024)
    parser.add_argument("--time-limit", type=float, default=None, help="per input, seconds (soak only)")
    parser.add_argument("--save-dir", type=Path, default=None)
    parser.add_argument("--replay", type=Path, default=None)
    args = parser.parse_args(argv)
    limit_memory(args.memory_mib)
    if args.time_limit:
        signal.signal(signal.SIGALRM, _on_alarm)
    if args.replay is not None:
        summaries = replay(args.replay, args.time_limit)
    else:
        summaries = [
            fuzz(
                target,
                args.inputs,
                args.seed,
                max_fit_bytes=args.max_fit_bytes,
                save_dir=args.save_dir,
                time_limit=args.time_limit,
            )
            for target in args.target or TARGETS
        ]
    for summary in summaries:
        summary.peak_rss_mib = round(_peak_rss_mib(), 1)
        summary.memory_limit_mib = args.memory_mib
        summary.max_seconds = round(summary.max_seconds, 4)
        print(json.dumps(summary.__dict__), flush=True)
    return 0


def run_in_child(*args: str, timeout: float = 3600) -> Iterator[dict[str, Any]]:
    """Run the harness in a fresh interpreter (with its memory cap) and yield its summaries."""
    result = subprocess.run(
        [sys.executable, "-m", "testkit.fuzz_harness", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"fuzz child exited {result.returncode}: {result.stderr[-3000:]}")
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            yield json.loads(line)


if __name__ == "__main__":
    sys.exit(main())
