"""`legday verdict`: run the readiness model on a JSON context ("what if?").

The model is imported when the command runs, not when the CLI starts (every other command would
pay for it); the rendering lives in `sync.cli.verdict_view`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sync.cli.common import fail, parse_overrides
from sync.config import get_settings
from sync.errors import UnreadableInput
from sync.ingest.reading import read_file_capped

__all__ = ["register", "verdict_command"]

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
    from rich.console import Console

    from sync.cli.verdict_view import render_verdict
    from sync.readiness import (
        ContextError,
        ThresholdsError,
        context_from_json_bytes,
        evaluate,
        layered_thresholds,
    )

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
