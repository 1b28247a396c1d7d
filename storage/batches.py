"""A batch's rows (or ids) as one parameter, read back by the statement as a table.

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

from sqlalchemy import (
    ARRAY,
    JSON,
    BindParameter,
    ColumnElement,
    String,
    all_,
    any_,
    bindparam,
    cast,
    func,
    select,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import FromClause, column
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

Column = ColumnElement[Any] | QueryableAttribute[Any]
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


@dataclass(frozen=True)
class BatchIds:
    """A batch of row ids as one parameter: an array on PostgreSQL, whose planner counts
    its elements (a few ids are looked up by index; a JSON table is always guessed at 100
    rows, and a hash join read the whole table for them), a JSON list on SQLite."""

    dialect: Dialect
    kind: TypeEngine[Any]
    name: str = "ids"

    def among(self, column: Column) -> ColumnElement[bool]:
        """``column`` is one of the batch's ids."""
        if self.dialect.name == "postgresql":
            return column == any_(self._array())
        return column.in_(select(self._each().c.value))

    def not_among(self, column: Column) -> ColumnElement[bool]:
        """``column`` is none of the batch's ids (true for an empty batch)."""
        if self.dialect.name == "postgresql":
            return column != all_(self._array())
        return column.not_in(select(self._each().c.value))

    def bind(self, ids: Iterable[int]) -> dict[str, object]:
        if self.dialect.name == "postgresql":
            return {self.name: list(ids)}
        return {self.name: json.dumps(list(ids))}

    def _array(self) -> BindParameter[Any]:
        return bindparam(self.name, type_=ARRAY(self.kind))

    def _each(self) -> TableValuedAlias:
        return func.json_each(bindparam(self.name, type_=String)).table_valued("value")


def _processor(kind: TypeEngine[Any], dialect: Dialect) -> Any:
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _stored(processor: Any, value: object) -> object:
    return value if processor is None or value is None else processor(value)


def _iso(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be part of a batch")
