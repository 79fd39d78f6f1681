"""A local Garmin Connect look-alike: real HTTP, seeded from FIT files, with fault switches."""

from sync.sandbox.faults import Fault, Faults
from sync.sandbox.server import LoggedRequest, Sandbox, SandboxAccount, SandboxClock

__all__ = ["Fault", "Faults", "LoggedRequest", "Sandbox", "SandboxAccount", "SandboxClock"]
