"""The report server: JSON API, HTML report page, watch feed and soreness check-in.

An output: it reads the verdict that counts (`sync.verdicts.read`) and stored data, never
computes one (a GET never writes), and never calls Garmin. Its signed links come from
`sync.links`, which the email (sync.notify) uses too; the names below are re-exported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sync.links.build import report_link, soreness_links, unsubscribe_headers, unsubscribe_link

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["create_app", "report_link", "soreness_links", "unsubscribe_headers", "unsubscribe_link"]


def create_app(*args: Any, **kwargs: Any) -> FastAPI:
    """Build the FastAPI application (see `sync.web.app.create_app`)."""
    from sync.web.app import create_app as _create_app

    return _create_app(*args, **kwargs)
