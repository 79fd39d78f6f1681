"""TRIMP over a streamed FIT file: running totals with sparse checkpoints, cut per session.

Pure state fed with plain numbers (no fitparse): `sync.fit.decode` reads the heart rate out
of `record` and `hr` messages and hands it here.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from typing import Any

from sync.fit.metrics import TrimpAccumulator
from sync.fit.types import TrimpAthlete


class CumulativeTrimp:
    """Running Banister TRIMP over a whole file with sparse (t, total, samples) checkpoints.

    Session spans are often only known at the end of the file (or at its start, depending on
    the device), so TRIMP is accumulated once for the whole stream and cut per session later
    by interpolating between checkpoints. Memory: one checkpoint per `step_s` of recording,
    never the HR series itself.
    """

    def __init__(self, trimp_athlete: TrimpAthlete, step_s: float = 15.0) -> None:
        """Accumulate for `trimp_athlete`, with one checkpoint per `step_s` seconds."""
        self._acc = TrimpAccumulator(trimp_athlete)
        self._step = step_s
        self._t = array("d")
        self._total = array("d")
        self._n = array("d")
        self._cov = array("d")  # seconds of recording covered by HR samples
        self._covered = 0.0
        self._last_t: float | None = None
        self._pending: tuple[float, float, int, float] | None = None

    def add(self, t: float, hr: Any) -> None:
        """One HR sample at FIT-epoch second `t`; non-positive or non-numeric HR is ignored."""
        if not isinstance(hr, (int, float)) or hr <= 0:
            return
        acc = self._acc
        if self._last_t is not None and t > self._last_t:
            self._covered += min(t - self._last_t, acc.max_gap_s)
        self._last_t = t
        acc.add(t, hr)
        if not self._t or t - self._t[-1] >= self._step:
            self._append(t, acc.total, acc.samples, self._covered)
            self._pending = None
        elif t > self._t[-1]:
            self._pending = (t, acc.total, acc.samples, self._covered)

    def _append(self, t: float, total: float, n: float, covered: float) -> None:
        self._t.append(t)
        self._total.append(total)
        self._n.append(n)
        self._cov.append(covered)

    def finish(self) -> None:
        """Keep the last sample as a checkpoint; call once the stream has ended."""
        if self._pending is not None:
            self._append(*self._pending)
            self._pending = None

    def _at(self, t: float) -> tuple[float, float, float]:
        times = self._t
        i = bisect_right(times, t)
        if i == 0:
            return 0.0, 0.0, 0.0
        if i == len(times):
            return self._total[-1], self._n[-1], self._cov[-1]
        t0, t1 = times[i - 1], times[i]
        f = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        return (
            self._total[i - 1] + f * (self._total[i] - self._total[i - 1]),
            self._n[i - 1] + f * (self._n[i] - self._n[i - 1]),
            self._cov[i - 1] + f * (self._cov[i] - self._cov[i - 1]),
        )

    def between(self, start: float, end: float) -> tuple[float, int, float]:
        """TRIMP, HR sample count and seconds covered by samples in [start, end]."""
        if not self._t:
            return 0.0, 0, 0.0
        total0, n0, c0 = self._at(start)
        total1, n1, c1 = self._at(end)
        return total1 - total0, int(round(n1 - n0)), c1 - c0


class HrMessageClock:
    """Heart rate from `hr` messages (HRM-Pro/chest-strap data stored for swims etc.).

    Each hr message carries filtered_bpm samples with event timestamps (1/1024 s, a device
    clock). A message that also has a `timestamp` anchors that clock to real time: sample
    time = anchor time + (event_timestamp - anchor event_timestamp), as the FIT SDK does.
    """

    _WRAP_S = float(0x400000)  # event_timestamp is uint32 in 1/1024 s: wraps at 2**22 s

    def __init__(self, sink: CumulativeTrimp) -> None:
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
