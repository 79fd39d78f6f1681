"""Keep the tests of a module that has a module-scoped fixture on one pytest-xdist worker.

Otherwise each worker builds that fixture again (a wheel in a fresh venv, a served schema). Only
`--dist loadgroup` (pyproject's addopts) reads the `xdist_group` mark this adds. It is added as
each item is collected, before xdist's worker turns the marks into `nodeid@group` suffixes.
Also a plugin on its own (`-p testkit.xdist_groups`), which is how its test runs it.
"""

from __future__ import annotations

import pytest


def group_by_module_fixture(item: pytest.Item) -> None:
    """Mark `item` with its module's xdist group when any fixture it uses is module-scoped."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None or item.get_closest_marker("xdist_group"):
        return
    for name in info.names_closure:
        defs = info.name2fixturedefs.get(name)
        if defs and defs[-1].scope == "module":
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
            return


pytest_itemcollected = group_by_module_fixture
