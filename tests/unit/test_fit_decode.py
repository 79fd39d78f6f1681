"""decode_fit on the small fixture files and on synthetic FIT files built here."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync.errors import FitDecodeError
from sync.fit import TrimpAthlete, decode_fit
from sync.fit.crc import fit_crc
from sync.fit.trimp import banister_trimp, trimp_from_seconds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fit"
FIT_EPOCH = 631065600


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- a minimal FIT writer, enough to build test files --------------------------------


# base type id -> struct char
_FMT = {0x00: "B", 0x02: "B", 0x84: "H", 0x85: "i", 0x86: "I", 0x07: "s", 0x0D: "B"}


class FitWriter:
    """Writes definition + data messages; each message type gets its own local number."""

    def __init__(self) -> None:
        self.body = b""
        self._local = 0

    def message(
        self,
        global_num: int,
        fields: list[tuple[int, int, object]],
        dev_fields: list[tuple[int, int, int, int]] = (),
    ) -> None:
        """fields: (field number, base type id, value or tuple or bytes);
        dev_fields: (field number, size, developer data index, uint32 value)."""
        local = self._local
        self._local = (self._local + 1) % 16
        defs = b""
        data = b""
        for num, base, value in fields:
            fmt = _FMT[base]
            if base == 0x07:
                raw = value if isinstance(value, bytes) else str(value).encode()
                size = len(raw)
                data += raw
            else:
                values = value if isinstance(value, tuple) else (value,)
                size = struct.calcsize("<" + fmt) * len(values)
                data += struct.pack("<" + fmt * len(values), *values)
            defs += bytes([num, size, base])
        header = 0x40 | local | (0x20 if dev_fields else 0)
        definition = bytes([header, 0, 0]) + struct.pack("<HB", global_num, len(fields)) + defs
        if dev_fields:
            definition += bytes([len(dev_fields)])
            for num, size, index, value in dev_fields:
                definition += bytes([num, size, index])
                data += struct.pack("<I", value)
        self.body += definition + bytes([local]) + data

    def bytes(self) -> bytes:
        head = struct.pack("<BBHI4s", 14, 0x20, 2132, len(self.body), b".FIT")
        head += struct.pack("<H", fit_crc(head))
        out = head + self.body
        return out + struct.pack("<H", fit_crc(out))


T0 = 1_100_000_000  # FIT seconds: 2024-11-09


def _file_id(w: FitWriter, product: int = 4315) -> None:
    w.message(0, [(0, 0x00, 4), (1, 0x84, 1), (2, 0x84, product), (4, 0x86, T0)])


def _session(
    w: FitWriter,
    start: int,
    seconds: int,
    sport: int,
    sub: int,
    index: int = 0,
    avg_hr: int = 0xFF,
    distance_cm: int = 0xFFFFFFFF,
    dev_distance: int | None = None,
) -> None:
    fields = [
        (253, 0x86, start + seconds),
        (2, 0x86, start),
        (5, 0x00, sport),
        (6, 0x00, sub),
        (7, 0x86, seconds * 1000),
        (8, 0x86, seconds * 1000),
        (9, 0x86, distance_cm),
        (16, 0x02, avg_hr),
        (168, 0x85, 5 * 65536 + 32768),
        (192, 0x02, 50),
        (193, 0x02, 70),
        (254, 0x84, index),
    ]
    dev = [(0, 4, 0, dev_distance)] if dev_distance is not None else []
    w.message(18, fields, dev)


# --- synthetic files -----------------------------------------------------------------


def test_hr_messages_give_trimp_when_records_have_no_heart_rate() -> None:
    w = FitWriter()
    _file_id(w)
    for t in range(0, 601, 10):  # records without heart_rate, like a swim
        w.message(20, [(253, 0x86, T0 + t)])
    _session(w, T0, 600, 5, 17)  # no avg_hr: the TRIMP must come from the hr messages
    # HRM data: an anchor message, then 8-sample delta messages, one beat per second
    w.message(132, [(253, 0x86, T0), (0, 0x84, 0), (6, 0x02, 150), (9, 0x86, 5000 * 1024)])
    for block in range(75):
        evts = tuple((5000 + 1 + block * 8 + i) * 1024 for i in range(8))
        w.message(132, [(6, 0x02, (150,) * 8), (9, 0x86, evts)])
    decoded = decode_fit(w.bytes())
    session = decoded.sessions[0]
    assert session.sport == "swimming" and session.sub_sport == "lap_swimming"
    expected = banister_trimp(10.0, 150, TrimpAthlete())
    assert trimp_from_seconds(session.hr_seconds, TrimpAthlete()) == pytest.approx(expected, rel=0.02)


def test_average_hr_fallback_when_no_series() -> None:
    w = FitWriter()
    _file_id(w)
    _session(w, T0, 1800, 1, 0, avg_hr=140)
    hr = TrimpAthlete(sex="female", max_hr=200, rest_hr=50)
    session = decode_fit(w.bytes()).sessions[0]
    assert session.hr_seconds == ((140, 1800.0),)
    assert trimp_from_seconds(session.hr_seconds, hr) == round(banister_trimp(30.0, 140, hr), 2)


def test_developer_field_named_like_a_native_field_does_not_win() -> None:
    w = FitWriter()
    _file_id(w)
    w.message(207, [(3, 0x02, 0), (1, 0x0D, tuple(range(16)))])  # developer_data_id
    w.message(
        206, [(0, 0x02, 0), (1, 0x02, 0), (2, 0x02, 0x86), (3, 0x07, b"total_distance\x00\x00")]
    )  # field_description
    _session(w, T0, 600, 1, 0, distance_cm=123456, dev_distance=999)
    session = decode_fit(w.bytes()).sessions[0]
    assert session.distance_m == pytest.approx(1234.56)


def test_newer_enums_and_unknown_fields_by_number() -> None:
    w = FitWriter()
    _file_id(w, product=4999)
    _session(w, T0, 3600, 75, 0)
    decoded = decode_fit(w.bytes())
    assert decoded.file_type == "activity"
    assert decoded.manufacturer == "garmin"
    assert decoded.product == "garmin:4999"  # unknown product: kept as text, no crash
    session = decoded.sessions[0]
    assert session.sport == "volleyball"
    assert session.start == datetime.fromtimestamp(FIT_EPOCH + T0, tz=UTC)
    assert session.training_load_peak == pytest.approx(5.5)
    assert session.workout_feel == 50 and session.workout_rpe == 70
    assert session.rpe_load == pytest.approx(7.0 * 60)


def test_sets_with_newer_categories_and_session_assignment() -> None:
    w = FitWriter()
    _file_id(w)
    _session(w, T0, 600, 2, 6, index=0)
    _session(w, T0 + 700, 1200, 10, 20, index=1)
    # sled (45) push, squat (28) back squat guess 2, a rest set, one in the first session
    sets = [
        (T0 + 100, 1, (45, 28), (0xFFFF, 0xFFFF), 10, 80 * 16),
        (T0 + 800, 1, (28, 17), (6, 0xFFFF), 5, 100 * 16),
        (T0 + 900, 0, (0xFFFF, 0xFFFF), (0xFFFF, 0xFFFF), 0xFFFF, 0xFFFF),
        (T0 + 1000, 1, (65534, 0xFFFF), (0xFFFF, 0xFFFF), 12, 0),
    ]
    for start, set_type, cats, subs, reps, weight in sets:
        w.message(
            225,
            [
                (254, 0x86, start + 30),
                (0, 0x86, 30000),
                (3, 0x84, reps),
                (4, 0x84, weight),
                (5, 0x02, set_type),
                (6, 0x86, start),
                (7, 0x84, cats),
                (8, 0x84, subs),
            ],
        )
    decoded = decode_fit(w.bytes())
    s0, s1, s2, s3 = decoded.sets
    assert (s0.category, s0.category_guesses, s0.session_index) == ("sled", ("sled", "squat"), 0)
    assert (s0.reps, s0.weight_kg, s0.duration_s, s0.lower_body) == (10, 80.0, 30.0, 1.0)
    assert s1.category == "squat" and s1.session_index == 1 and s1.weight_kg == 100.0
    assert s1.exercise is not None  # squat subtype 6 is named in the FIT profile
    assert s2.set_type == "rest" and s2.category == "unknown" and s2.category_guesses == ()
    assert s2.reps is None and s2.weight_kg is None
    assert s3.category == "unknown" and s3.lower_body == 0.0 and s3.weight_kg == 0.0
    assert decoded.lb_sets == 2.0


# --- fixtures from the corpus --------------------------------------------------------


def test_fixture_run() -> None:
    decoded = decode_fit(fixture("fenix5-run-short-01.fit"))
    assert (decoded.file_type, decoded.manufacturer, decoded.product) == ("activity", "garmin", "fenix5")
    assert decoded.crc_ok and decoded.warnings == ()
    (session,) = decoded.sessions
    assert (session.sport, session.sub_sport) == ("running", "generic")
    assert session.distance_m == pytest.approx(157.56)
    assert session.duration_s == pytest.approx(56.887)
    assert session.avg_hr == 90
    assert session.start == datetime(2017, 6, 11, 14, 34, 9, tzinfo=UTC)
    trimp = trimp_from_seconds(session.hr_seconds, TrimpAthlete())
    assert trimp is not None and 0 < trimp < 2  # one easy minute
    assert session.time_in_zone_s is not None and len(session.time_in_zone_s) >= 5


def test_fixture_yoga_sets() -> None:
    decoded = decode_fit(fixture("fenix6x-yoga-sets-01.fit"))
    assert decoded.product == "fenix6x"  # 3291: newer than fitparse's profile
    assert [(s.sport, s.sub_sport) for s in decoded.sessions] == [("training", "yoga")]
    assert len(decoded.sets) == 3
    assert all(s.category == "unknown" and s.reps is None for s in decoded.sets)
    assert decoded.lb_sets == 0


def test_bad_crc_is_used_and_flagged() -> None:
    decoded = decode_fit(fixture("sdk-activity-bad-file-crc-01.fit"))
    assert decoded.crc_ok is False
    assert decoded.warnings == ("CRC mismatch (computed 0xA1D5, read 0xB1D5); decoded without the CRC check",)
    assert [s.sport for s in decoded.sessions] == ["running"]


def test_check_crc_false_skips_the_check() -> None:
    decoded = decode_fit(fixture("sdk-activity-bad-file-crc-01.fit"), check_crc=False)
    assert decoded.crc_ok is True and decoded.warnings == ()


def test_bad_crc_plus_truncation_reports_the_real_fault() -> None:
    data = fixture("sdk-activity-bad-file-crc-01.fit")[:-40]
    with pytest.raises(FitDecodeError) as info:
        decode_fit(data)
    assert info.value.reason.startswith("truncated")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file (0 bytes)"),
        (b"\x0e\x10", "truncated: 2 bytes is shorter than a FIT header"),
        (b"PK\x03\x04" + b"\x00" * 60, "not a FIT file: bad header"),
        (
            fixture("sdk-activity-truncated-eof-01.fit"),
            "truncated: file ends inside a record (unexpected EOF)",
        ),
    ],
)
def test_unusable_input_raises_one_clear_line(data: bytes, reason: str) -> None:
    with pytest.raises(FitDecodeError) as info:
        decode_fit(data)
    assert info.value.reason == reason


def test_undefined_local_message() -> None:
    w = FitWriter()
    _file_id(w)
    w.body += bytes([0x07, 1, 2, 3])  # data message for local type 7, never defined
    with pytest.raises(FitDecodeError) as info:
        decode_fit(w.bytes())
    assert info.value.reason == "corrupt data: message uses undefined local message type 7"


def test_non_bytes_input() -> None:
    with pytest.raises(FitDecodeError):
        decode_fit("a path, not bytes")  # type: ignore[arg-type]


def test_decoding_is_repeatable() -> None:
    data = fixture("edge820-cycling-commute-01.fit")
    assert decode_fit(data) == decode_fit(data) == decode_fit(data, check_crc=False)


def test_fit_crc_matches_a_real_devices_file_crc() -> None:
    data = (FIXTURES / "fenix5-run-short-01.fit").read_bytes()
    assert fit_crc(data[:-2]) == struct.unpack("<H", data[-2:])[0]
    assert fit_crc(data) == 0  # a FIT file including its CRC checks to zero


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda d: b"abcdef", "not a FIT file: 6 bytes that do not start with a FIT header"),
        (lambda d: d[:7], "truncated: 7 bytes is shorter than a FIT header"),
        (lambda d: bytes([13]) + d[1:], "not a FIT file: bad header"),
        (lambda d: d[:8] + b"XXXX" + d[12:], "not a FIT file: bad header"),
        (lambda d: d[: len(d) // 2], "truncated: file ends inside a record (unexpected EOF)"),
    ],
)
def test_reasons_name_the_real_fault(mangle, reason: str) -> None:  # noqa: ANN001
    data = (FIXTURES / "fenix5-run-short-01.fit").read_bytes()
    with pytest.raises(FitDecodeError) as err:
        decode_fit(mangle(data))
    assert err.value.reason == reason
