"""Names for FIT enum values: the base profile's tables, then the newer SDK values.

Plain lookups with no fitparse import. The base tables (fitparse's profile) are handed in by
`sync.fit.decode` as a function from a FIT type name to its value table, so record building
can be exercised with hand-written tables, or none at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sync.fit import exercises, sdk_profile

# A FIT type name ("sport", "garmin_product", "squat_exercise_name"...) -> its value table.
ProfileTables = Callable[[str], Mapping[int, str] | None]


def _no_tables(type_name: str) -> Mapping[int, str] | None:
    return None


class EnumNames:
    """Turns enum numbers into names; numbers known nowhere become text, never an error."""

    def __init__(self, tables: ProfileTables = _no_tables) -> None:
        """`tables` gives the base profile's table for a type name (None when unknown)."""
        self._tables = tables

    def _enum(self, type_name: str, value: int, newer: Mapping[int, str]) -> str | None:
        known = self._tables(type_name) or {}
        return known.get(value) if value in known else newer.get(value)

    def sport(self, value: Any) -> str:
        """The sport's name; `generic` (the FIT default) when the field is absent."""
        if not isinstance(value, int):
            return "generic"
        return self._enum("sport", value, sdk_profile.SPORTS) or f"sport_{value}"

    def sub_sport(self, value: Any) -> str | None:
        """The sub-sport's name, or None when the field is absent."""
        if not isinstance(value, int):
            return None
        return self._enum("sub_sport", value, sdk_profile.SUB_SPORTS) or f"sub_sport_{value}"

    def file_type(self, value: Any) -> str:
        """The `file` enum's name; `unknown` when absent."""
        if not isinstance(value, int):
            return "unknown"
        return self._enum("file", value, sdk_profile.FILE_TYPES) or f"file_type_{value}"

    def manufacturer(self, value: Any) -> str | None:
        """The manufacturer's name, or None when absent."""
        if not isinstance(value, int):
            return None
        return self._enum("manufacturer", value, sdk_profile.MANUFACTURERS) or f"manufacturer_{value}"

    def product(self, manufacturer: Any, product: Any, manufacturer_name: str | None) -> str | None:
        """The product's name for Garmin-family ids, else `manufacturer:number`."""
        if not isinstance(product, int):
            return None
        if manufacturer in sdk_profile.GARMIN_PRODUCT_MANUFACTURERS:
            name = self._enum("garmin_product", product, sdk_profile.GARMIN_PRODUCTS)
            if name:
                return name
        return f"{manufacturer_name or 'unknown'}:{product}"

    def exercise(self, category: int | None, subtype: int | None) -> str | None:
        """Exercise name inside a category, from the base profile's `<category>_exercise_name`."""
        if category is None or subtype is None:
            return None
        cat = exercises.EXERCISE_CATEGORIES.get(category)
        table = self._tables(f"{cat}_exercise_name") if cat else None
        if table is None:
            return None
        return table.get(subtype)
