"""Whether `legday garmin login` can work here: python-garminconnect >= 0.3 must be installed.

Checked on PyPI's metadata (December 2026): every garminconnect release, 0.1.x to 0.3.2,
declares `Requires-Python >= 3.10`, so it installs on every Python legday supports (>= 3.11);
0.3 logs in for DI tokens (requests and curl_cffi, no garth), while 0.2.x logs in through garth
(whose logins Garmin blocks since March 2026) and pins garth < 0.7, which conflicts with
legday's garth 0.8. The `[login]` extra therefore asks for `garminconnect>=0.3,<0.4` with no
Python marker: it never installs nothing without a word.
"""

from __future__ import annotations

from importlib import metadata

REQUIREMENT = "garminconnect>=0.3,<0.4"
INSTALL = "pip install 'legday-sync[login]' (or: pip install '" + REQUIREMENT + "')"


def _major_minor(version: str) -> tuple[int, int]:
    parts = (version.split(".") + ["0", "0"])[:2]
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)
    except ValueError:
        return 0, 0


def installed_version() -> str | None:
    """The installed garminconnect's version, or None when it is not installed."""
    try:
        return metadata.version("garminconnect")
    except metadata.PackageNotFoundError:
        return None


def login_problem(version: str | None) -> str | None:
    """Why the login cannot run with this garminconnect (None: it can), in one line."""
    if version is None:
        return (
            f"an interactive login needs python-garminconnect 0.3 (DI tokens), not installed: {INSTALL}. "
            "Or connect with a Personal API key instead: `legday garmin connect` (docs/garmin.md)."
        )
    if _major_minor(version) < (0, 3):
        return (
            f"python-garminconnect {version} is installed, but the login needs 0.3 or newer (older "
            f"releases log in through garth, which Garmin blocks): {INSTALL}. "
            "Or connect with a Personal API key instead: `legday garmin connect`."
        )
    if _major_minor(version) >= (0, 4):
        return (
            f"python-garminconnect {version} is newer than legday knows (0.3.x): {INSTALL}. "
            "Or connect with a Personal API key instead: `legday garmin connect`."
        )
    return None
