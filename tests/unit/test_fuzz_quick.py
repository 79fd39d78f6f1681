"""The quick fuzz: a few hundred mutated inputs per entry point, in a capped child process.

The long run (thousands of inputs, a per-input time bound) is `make soak`; this one only
checks that nothing but legday's own errors comes out, and that the mutations reach past the
first check (some inputs are accepted, some refused). No timings are asserted here.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from testkit.fuzz_harness import ROOT, run_in_child

# Inputs per target: ~700 in all, a few seconds of CPU on the small seeds.
QUICK = {"fit": 200, "zip_iter": 150, "zip_single": 150, "context": 200}
# What a run must show besides no failures: both accepted and refused outcomes.
ACCEPTED = {"fit": "decoded", "zip_iter": "read", "zip_single": "extracted", "context": "verdict"}


@pytest.mark.parametrize("target", QUICK)
def test_quick_fuzz_only_raises_our_own_errors(target: str) -> None:
    args = ["--target", target, "--inputs", str(QUICK[target]), "--seed", "12", "--memory-mib", "1024"]
    (summary,) = run_in_child(*args, timeout=900)
    assert summary["failures"] == [], summary["failures"][:3]
    assert summary["inputs"] == QUICK[target]
    outcomes = summary["outcomes"]
    assert outcomes.get("refused", 0) > 0, outcomes
    assert any(k.startswith(ACCEPTED[target]) for k in outcomes), outcomes
    assert summary["memory_limit_mib"] == 1024 and summary["peak_rss_mib"] < 1024


def test_the_child_memory_cap_turns_a_runaway_allocation_into_memory_error() -> None:
    code = (
        "from testkit.fuzz_harness import limit_memory\n"
        "limit_memory(256)\n"
        "try:\n"
        "    bytearray(512 * 1024 * 1024)\n"
        "except MemoryError:\n"
        "    print('capped')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "capped", result.stderr
