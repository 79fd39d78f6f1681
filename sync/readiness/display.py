"""How a flag looks and reads, for every output (CLI, email, report, watch feed). Pure data.

One place, so that the terminal, the email and the report page never disagree on the words or
the colour of a verdict.
"""

from __future__ import annotations

from sync.readiness.verdict import Flag

__all__ = [
    "FLAG_COLOURS",
    "FLAG_HEADLINES",
    "FLAG_TERMINAL_COLOURS",
    "SORENESS_LABELS",
    "flag_colour",
    "flag_headline",
]

FLAG_HEADLINES: dict[Flag, str] = {
    Flag.RUN: "RUN: train as planned",
    Flag.EASY: "EASY: short easy run only",
    Flag.REST: "REST: no run today",
}
# Hex colours for HTML (email, report page): green, amber, red.
FLAG_COLOURS: dict[Flag, str] = {Flag.RUN: "#1a7f37", Flag.EASY: "#b58105", Flag.REST: "#c62828"}
# Rich colour names for the terminal.
FLAG_TERMINAL_COLOURS: dict[Flag, str] = {Flag.RUN: "green", Flag.EASY: "yellow", Flag.REST: "red"}
# The one-tap soreness check-in values in words (the model's bands: SORE 4-6, SORE_SEVERE 7+).
SORENESS_LABELS: dict[int, str] = {0: "not sore", 3: "a little stiff", 5: "sore", 8: "can barely walk"}


def flag_headline(flag: Flag | str) -> str:
    """The one-line meaning of a flag ("EASY: short easy run only")."""
    return FLAG_HEADLINES[Flag(flag)]


def flag_colour(flag: Flag | str) -> str:
    """The HTML colour of a flag."""
    return FLAG_COLOURS[Flag(flag)]
