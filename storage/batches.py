"""A batch's rows as one parameter, read back by the statement as a table.

A statement that carries a batch as bound values per row (``CASE id WHEN … THEN …``,
``IN (…)``) has a new shape for every batch size: SQLAlchemy builds and compiles it anew
and PostgreSQL prepares it anew, and most of a reminder burst's CPU went there. Here the
whole batch travels as one JSON parameter that the statement reads as a table
(``json_to_recordset`` on PostgreSQL, ``json_each`` on SQLite), so a batch of any size runs
the same statement: compiled once, prepared once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, bindparam, cast, func, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import FromClause, column
from sqlalchemy.types import TypeEngine

PARAMETER = "batch"
"""The bound parameter that carries a batch (one per statement)."""


@dataclass(frozen=True)
class BatchTable:
    """The columns of a batch, readable as the table ``batch`` in a statement of ``dialect``."""

    dialect: Dialect
    columns: tuple[tuple[str, TypeEngine[Any]], ...]

    def table(self) -> FromClause:
        """The batch as a table; its columns are ``.c.<name>``."""
        if self.dialect.name == "postgresql":
            rows = func.json_to_recordset(cast(bindparam(PARAMETER, type_=String), JSON))
            typed = [column(name, kind) for name, kind in self.columns]
            return rows.table_valued(*typed).render_derived(name=PARAMETER, with_types=True)
        each = func.json_each(bindparam(PARAMETER, type_=String)).table_valued("value")
        picked = [
            type_coerce(func.json_extract(each.c.value, f"$.{name}"), kind).label(name)
            for name, kind in self.columns
        ]
        return select(*picked).select_from(each).subquery(PARAMETER)

    def bind(self, rows: Iterable[Mapping[str, object]]) -> dict[str, str]:
        """The parameter for ``rows`` (each a mapping of column name to value), with every
        value written as the column's type stores it on this dialect (SQLite keeps times as
        text in SQLAlchemy's own format, which the JSON must match exactly)."""
        processors = {name: _processor(kind, self.dialect) for name, kind in self.columns}
        encoded = [
            {name: _stored(processors[name], row.get(name)) for name, _ in self.columns}
            for row in rows
        ]
        return {PARAMETER: json.dumps(encoded, default=_iso)}


def ids_table(dialect: Dialect, kind: TypeEngine[Any]) -> BatchTable:
    """A batch of row ids alone (``IN``/``NOT IN`` a batch)."""
    return BatchTable(dialect, (("id", kind),))


def _processor(kind: TypeEngine[Any], dialect: Dialect) -> Any:
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _stored(processor: Any, value: object) -> object:
    return value if processor is None or value is None else processor(value)


def _iso(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be part of a batch")
