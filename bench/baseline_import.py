"""The yardstick for `legday import`: the plain way, fitparse + SQLAlchemy, no legday code.

    python bench/baseline_import.py DB_FILE FIT_FILE_OR_DIR...

What a straightforward importer does: each file through `fitparse.FitFile(...).get_messages()`
(default processors, CRC checked), its `session` and `set` messages' values into two tables
of an SQLite file through the ORM, one commit per file. Time it against `legday import` of
the same files from outside, as whole processes (start-up included), e.g. with
`/usr/bin/time -v` or any harness that runs the two commands in turn; run it on an empty
database file each time.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import fitparse
from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the two tables."""


class FitSession(Base):
    """One `session` message."""

    __tablename__ = "session"
    id: Mapped[int] = mapped_column(primary_key=True)
    file: Mapped[str] = mapped_column(String(500))
    sport: Mapped[str | None] = mapped_column(String(64))
    start: Mapped[datetime | None] = mapped_column(DateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    avg_hr: Mapped[int | None] = mapped_column(Integer)


class FitSet(Base):
    """One `set` message."""

    __tablename__ = "set"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("session.id"))
    category: Mapped[str | None] = mapped_column(String(64))
    reps: Mapped[int | None] = mapped_column(Integer)
    weight_kg: Mapped[float | None] = mapped_column(Float)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def import_file(session: Session, path: Path) -> None:
    """Every session and set of one file, as fitparse gives them."""
    current: FitSession | None = None
    for message in fitparse.FitFile(str(path)).get_messages():
        if message.name == "session":
            v = message.get_values()
            current = FitSession(
                file=str(path),
                sport=str(v.get("sport")),
                start=v.get("start_time"),
                duration_s=_number(v.get("total_timer_time")),
                distance_m=_number(v.get("total_distance")),
                avg_hr=v.get("avg_heart_rate"),
            )
            session.add(current)
        elif message.name == "set":
            v = message.get_values()
            category = v.get("category")
            reps = v.get("repetitions")
            session.add(
                FitSet(
                    session_id=current.id if current is not None else None,
                    category=str(category[0] if isinstance(category, tuple) else category),
                    reps=reps if isinstance(reps, int) else None,
                    weight_kg=_number(v.get("weight")),
                )
            )
    session.commit()


def main(argv: list[str]) -> int:
    """Import every FIT file given (folders are walked); print the count."""
    engine = create_engine(f"sqlite:///{argv[0]}")
    Base.metadata.create_all(engine)
    files = [f for a in argv[1:] for f in (sorted(Path(a).rglob("*.fit")) if Path(a).is_dir() else [Path(a)])]
    done = 0
    with Session(engine) as session:
        for path in files:
            try:
                import_file(session, path)
                done += 1
            except fitparse.FitParseError:
                session.rollback()
    print(f"imported {done} of {len(files)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
