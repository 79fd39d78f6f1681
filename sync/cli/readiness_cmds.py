"""`legday verdict`: run the readiness model on a JSON context ("what if?").

`render_verdict` is the human rendering, reused by other commands (e.g. `legday today`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from sync.cli.common import fail, parse_overrides
from sync.config import get_settings
from sync.errors import UnreadableInput
from sync.ingest.reading import read_file_capped
from sync.readiness import (
    ContextError,
    Flag,
    ThresholdsError,
    Verdict,
    context_from_json_bytes,
    evaluate,
    layered_thresholds,
    texts,
)
from sync.readiness.display import FLAG_HEADLINES, FLAG_TERMINAL_COLOURS
from sync.readiness.texts import UNKNOWN_LABELS

__all__ = ["register", "render_verdict", "verdict_command"]

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


MAX_CONTEXT_BYTES = 16 * 1024 * 1024  # a year of per-day values is a few hundred kB


def verdict_command(
    context: Annotated[
        Path,
        typer.Option(
            "--context",
            "-c",
            help="A scenario file (with a 'context' key) or a bare context JSON; '-' for stdin.",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            "--threshold",
            "-t",
            help="Override a threshold, NAME=VALUE (repeatable), e.g. -t lb_sets=8.",
        ),
    ] = None,
) -> None:
    """Evaluate the readiness model on a JSON context: RUN, EASY or REST, and why."""
    try:
        raw = (
            typer.get_binary_stream("stdin").read(MAX_CONTEXT_BYTES)
            if str(context) == "-"
            else read_file_capped(context, MAX_CONTEXT_BYTES)
        )
    except (OSError, UnreadableInput) as exc:
        raise fail(f"cannot read {context}: {getattr(exc, 'reason', None) or exc}", 2) from None
    try:
        ctx = context_from_json_bytes(raw)  # not UTF-8, not JSON, too deep: one line each
        thresholds = layered_thresholds(get_settings().thresholds, parse_overrides(threshold or []))
    except (ContextError, ThresholdsError) as exc:
        raise fail(f"{context}: {exc}", 2) from None
    verdict = evaluate(ctx, thresholds)
    if as_json:
        # allow_nan=False: the output is always standard JSON (validation keeps numbers finite).
        typer.echo(json.dumps(verdict.to_json_dict(), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        render_verdict(Console(), verdict)


def register(app: typer.Typer) -> None:
    """Add the readiness commands to the `legday` app."""
    app.command("verdict")(verdict_command)
