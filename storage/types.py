"""Column types that keep Python-side values honest across SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out; a naive datetime is a ValueError.

    SQLite has no time zones, so values are stored there as naive UTC and re-tagged on
    the way out; PostgreSQL stores `timestamptz` natively.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: Rounds stores UTC-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_cls: type[Enum], length: int = 16) -> sa.Enum:
    """A portable VARCHAR enum storing `.value` (not native PG enums: they resist migrations)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
