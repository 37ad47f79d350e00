"""Exactly-once inserts: a row under a unique key, taken by the one transaction whose insert
succeeds. Rule firings and the speed-to-lead ladder both claim their work this way, so each
occurrence happens once however many sweepers share the database."""

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def insert_once(
    session: Session, table: Table, values: dict[str, Any], key: list[str]
) -> int | None:
    """Insert `values`; the new row's id, or None when a row with the same `key` exists."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    return session.execute(
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=key)
        .returning(table.c.id)
    ).scalar()
