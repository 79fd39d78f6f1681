"""Seconds at each heart rate over a streamed FIT file: running totals with sparse
checkpoints, cut per session.

Pure state fed with plain numbers (no fitparse): `sync.fit.decode` reads the heart rate out
of `record` and `hr` messages and hands it here. What comes out per session is a histogram
(seconds per bpm): everything TRIMP needs from the recording, so the load can be computed,
and recomputed after a change of max or resting HR, without the file
(`sync.fit.trimp.trimp_from_seconds`).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from typing import Any

from sync.fit.types import HrSeconds

MAX_GAP_S = 10.0  # a longer gap between samples (watch paused, HR lost) counts this long
MAX_BPM = 250  # higher values count as 250: no heart beats faster, TRIMP's weight is capped at max HR


class CumulativeHr:
    """Seconds spent at each heart rate over a whole file, with sparse checkpoints.

    Each sample's heart rate holds until the next sample, for at most `MAX_GAP_S`. Session
    spans are often only known at the end of the file (or at its start, depending on the
    device), so the series is accumulated once for the whole stream and cut per session later
    by interpolating between checkpoints (one per `step_s` of recording). A checkpoint keeps
    the seconds per bpm added since the one before (a few bins for 15 s), so memory stays
    small and the HR series itself is never held.
    """

    def __init__(self, step_s: float = 15.0) -> None:
        """Accumulate with one checkpoint per `step_s` seconds."""
        self._step = step_s
        self._t = array("d")  # checkpoint times
        self._n = array("d")  # samples up to each checkpoint
        self._cov = array("d")  # seconds of recording covered by HR samples, likewise
        self._ends = array("Q")  # where each checkpoint's bins end in _bpm/_sec
        self._bpm = array("H")  # the bins added between checkpoints, checkpoint by checkpoint
        self._sec = array("d")
        self._since: dict[int, float] = {}  # seconds per bpm since the last checkpoint
        self._late: dict[int, float] = {}  # the same, added after `_pending` was taken
        self._samples = 0
        self._covered = 0.0
        self._last_t: float | None = None
        self._last_hr = 0
        self._pending: tuple[float, int, float] | None = None

    def add(self, t: float, hr: Any) -> None:
        """One HR sample at FIT-epoch second `t`; non-positive or non-numeric HR is ignored.

        A fractional HR (only a crafted file has one: FIT's heart rates are whole bpm) counts
        as the nearest whole bpm; a non-finite one is ignored.
        """
        if type(hr) is not int:
            if not isinstance(hr, (int, float)) or not math.isfinite(hr):
                return
            hr = round(hr)
        if hr <= 0:
            return
        if hr > MAX_BPM:
            hr = MAX_BPM
        last_t = self._last_t
        times = self._t
        if not times or t - times[-1] >= self._step:
            where = None  # this sample becomes a checkpoint
        elif t > times[-1]:
            where = self._since  # the pending checkpoint moves to this sample
        else:
            where = self._late  # time went back: the pending checkpoint stays where it was
        if last_t is not None and t > last_t:
            dt = t - last_t
            if dt > MAX_GAP_S:
                dt = MAX_GAP_S
            self._covered += dt
            bins = self._since if where is None else where
            bins[self._last_hr] = bins.get(self._last_hr, 0.0) + dt
        self._last_t = t
        self._last_hr = hr
        self._samples += 1
        if where is None:
            self._merge_late()
            self._append(t, self._samples, self._covered)
            self._pending = None
        elif where is self._since:
            self._merge_late()
            self._pending = (t, self._samples, self._covered)

    def _merge_late(self) -> None:
        if self._late:
            since = self._since
            for bpm, seconds in self._late.items():
                since[bpm] = since.get(bpm, 0.0) + seconds
            self._late = {}

    def _append(self, t: float, n: float, covered: float) -> None:
        self._t.append(t)
        self._n.append(n)
        self._cov.append(covered)
        for bpm, seconds in self._since.items():
            self._bpm.append(bpm)
            self._sec.append(seconds)
        self._ends.append(len(self._bpm))
        self._since = {}

    def finish(self) -> None:
        """Keep the last sample as a checkpoint; call once the stream has ended."""
        if self._pending is not None:
            self._append(*self._pending)
            self._pending = None

    def _position(self, t: float) -> tuple[int, float]:
        """(i, f): everything up to checkpoint i - 1, and the fraction f of checkpoint i's bins."""
        times = self._t
        i = bisect_right(times, t)
        if i == 0 or i == len(times):
            return i, 0.0
        t0, t1 = times[i - 1], times[i]
        return i, (t - t0) / (t1 - t0) if t1 > t0 else 0.0

    def _count(self, series: array, t: float) -> float:
        i, f = self._position(t)
        if i == 0:
            return 0.0
        if i == len(series):
            return series[-1]
        return series[i - 1] + f * (series[i] - series[i - 1])

    def _add_bins(self, out: dict[int, float], checkpoint: int, factor: float) -> None:
        if factor == 0.0 or checkpoint >= len(self._ends):
            return
        start = self._ends[checkpoint - 1] if checkpoint else 0
        for j in range(start, self._ends[checkpoint]):
            bpm = self._bpm[j]
            out[bpm] = out.get(bpm, 0.0) + factor * self._sec[j]

    def between(self, start: float, end: float) -> tuple[HrSeconds, int, float]:
        """Seconds per bpm (sorted by bpm), HR sample count and seconds covered by samples
        in [start, end]."""
        if not self._t:
            return (), 0, 0.0
        i0, f0 = self._position(start)
        i1, f1 = self._position(end)
        out: dict[int, float] = {}
        first = self._ends[i0 - 1] if i0 else 0
        last = self._ends[i1 - 1] if i1 else 0
        for j in range(first, last):  # whole checkpoints i0 .. i1 - 1
            bpm = self._bpm[j]
            out[bpm] = out.get(bpm, 0.0) + self._sec[j]
        self._add_bins(out, i1, f1)
        self._add_bins(out, i0, -f0)
        n = self._count(self._n, end) - self._count(self._n, start)
        covered = self._count(self._cov, end) - self._count(self._cov, start)
        bins = tuple((bpm, seconds) for bpm, seconds in sorted(out.items()) if seconds > 0.0)
        return bins, int(round(n)), covered


class HrMessageClock:
    """Heart rate from `hr` messages (HRM-Pro/chest-strap data stored for swims etc.).

    Each hr message carries filtered_bpm samples with event timestamps (1/1024 s, a device
    clock). A message that also has a `timestamp` anchors that clock to real time: sample
    time = anchor time + (event_timestamp - anchor event_timestamp), as the FIT SDK does.
    """

    _WRAP_S = float(0x400000)  # event_timestamp is uint32 in 1/1024 s: wraps at 2**22 s

    def __init__(self, sink: CumulativeHr) -> None:
        """Samples placed in time go to `sink`."""
        self._sink = sink
        self._anchor_t: float | None = None
        self._anchor_evt = 0.0
        self.samples = 0

    def add(
        self,
        timestamp: Any,
        fraction_s: float | None,
        bpms: tuple[Any, ...],
        native_evt: tuple[Any, ...],
        expanded_evt: list[float],
    ) -> None:
        """One hr message's values, as read from it.

        `native_evt` are raw event_timestamp values (1/1024 s); `expanded_evt` the ones
        expanded from event_timestamp_12 components (already seconds), used when there are
        no native ones.
        """
        evts = [v / 1024.0 for v in native_evt if v is not None] or expanded_evt
        if not evts:
            return
        if isinstance(timestamp, int):
            self._anchor_t = timestamp + (fraction_s or 0.0)
            self._anchor_evt = evts[0]
        if self._anchor_t is None:
            return  # delta message before any anchor: no way to place it in time
        for evt, bpm in zip(evts, bpms, strict=False):
            if evt < self._anchor_evt and self._anchor_evt - evt > self._WRAP_S / 2:
                evt += self._WRAP_S
            self._sink.add(self._anchor_t + (evt - self._anchor_evt), bpm)
            self.samples += 1
