"""The human rendering of a verdict in the terminal: the flag big and coloured, reasons, what to do.

Imported inside the commands that print a verdict, so other commands start without the model.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from sync.readiness import Flag, Verdict, texts
from sync.readiness.display import FLAG_HEADLINES, FLAG_TERMINAL_COLOURS
from sync.readiness.texts import UNKNOWN_LABELS

__all__ = ["render_verdict"]

# The flag's text on its own colour (black on yellow reads better than white).
FLAG_STYLES = {
    flag: f"bold {'black' if flag is Flag.EASY else 'white'} on {colour}"
    for flag, colour in FLAG_TERMINAL_COLOURS.items()
}


def render_verdict(console: Console, verdict: Verdict) -> None:
    """Print a verdict for people: the flag big and coloured, reasons, prescription."""
    style = FLAG_STYLES[verdict.flag]
    console.print(
        Panel(
            Text(f"\n{verdict.flag.value}\n", style=style, justify="center"),
            title=f"{verdict.day.isoformat()}",
            subtitle=FLAG_HEADLINES[verdict.flag],
            style=style,
            padding=(0, 4),
        )
    )
    if verdict.reasons:
        console.print(Text("Why", style="bold"))
        for r in verdict.reasons:
            line = Text(f"  - {r.text} ")
            line.append(f"[{r.source}]", style="dim")
            console.print(line)
    else:
        console.print(Text("Why: nothing stands in the way.", style="bold"))

    p = verdict.prescription
    body: list[Any] = [Text(p.summary, style="bold")]
    caps = []
    if p.max_minutes is not None:
        caps.append(f"max {p.max_minutes} min")
    if p.hr_cap_bpm is not None:
        caps.append(f"HR under {p.hr_cap_bpm} bpm")
    if p.warmup_minutes is not None:
        caps.append(f"warm-up >= {p.warmup_minutes} min")
    if caps:
        body.append(Text(" | ".join(caps)))
    body.extend(Text(f"- {a}") for a in p.advice)
    if p.why:
        body.append(Text(f"Why rest: {p.why}", style="italic"))
    if p.note:
        body.append(Text(f"Note: {p.note}", style="italic"))
    console.print(Panel(Group(*body), title="What to do", border_style=style.split()[-1]))

    if verdict.unclassified_sets:
        console.print(Text(texts.unclassified(verdict.unclassified_sets), style="yellow"))
    if verdict.unknown:
        labels = ", ".join(UNKNOWN_LABELS.get(u, u) for u in verdict.unknown)
        console.print(Text(f"Not known, so not used: {labels}.", style="dim"))
    if verdict.sources:
        console.print(Text("Sources", style="bold dim"))
        for src in verdict.sources:
            console.print(
                Text(f"  [{src.tag}] {src.title}" + (f" {src.url}" if src.url else ""), style="dim")
            )
    console.print(Text(f"model {verdict.model_version}", style="dim"))
