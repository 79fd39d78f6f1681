"""The report server: JSON API, HTML report page, watch feed and soreness check-in.

It reads verdicts and stored data and never calls Garmin. The email (sync.notify) builds its
links with `report_link`, `soreness_links` and `unsubscribe_link` from `sync.links.build`.
"""

from __future__ import annotations

from sync.links.build import report_link, soreness_links, unsubscribe_headers, unsubscribe_link

__all__ = ["create_app", "report_link", "soreness_links", "unsubscribe_headers", "unsubscribe_link"]


def create_app(*args: object, **kwargs: object):  # noqa: ANN201 - FastAPI imported lazily
    """Build the FastAPI application (see `sync.report.app.create_app`)."""
    from sync.report.app import create_app as _create_app

    return _create_app(*args, **kwargs)
