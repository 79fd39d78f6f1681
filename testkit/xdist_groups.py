"""How the suite is shared out among pytest-xdist workers: what runs together, and what first.

`group_by_module_fixture` keeps the tests of a module that has a module-scoped fixture on one
worker; otherwise each worker builds that fixture again (a wheel in a fresh venv, a served
schema). Only `--dist loadgroup` (pyproject's addopts) reads the `xdist_group` mark it adds. It
is added as each item is collected, before xdist's worker turns the marks into `nodeid@group`
suffixes.

`long_first` moves the tests marked `long` to the front of the collection. xdist hands out its
work units biggest first (a module that runs as one group before any single test), then in
collection order: a 25 s test collected last ran alone at the end while the other workers sat
idle (14 s of a 136 s run); now the long ones go right after the groups.

Both are also a plugin on their own (`-p testkit.xdist_groups`), which is how their tests run them.
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


def long_first(items: list[pytest.Item]) -> None:
    """Sort `items` in place: those marked `long` (and the rest of their xdist group) first,
    each part in collection order."""
    long_units = {_work_unit(item) for item in items if item.get_closest_marker("long")}
    items.sort(key=lambda item: _work_unit(item) not in long_units)


def _work_unit(item: pytest.Item) -> str:
    """What xdist hands out as one piece: the item's group, or the item alone."""
    mark = item.get_closest_marker("xdist_group")
    return f"group:{mark.args[0]}" if mark and mark.args else item.nodeid


pytest_itemcollected = group_by_module_fixture
pytest_collection_modifyitems = long_first
