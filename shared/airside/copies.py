"""Local copies of other services' records, and the handlers that fill the copies of booking's stations, members,
carriers and contracts.

Newest version wins (docs/events.md, delivery rule 4): every copy of a versioned snapshot is written
by keep_newest, so redelivered and out-of-order events never move a copy backwards.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import JSON, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime
from airside.events import booking as booking_events
from airside.events import carriers as carrier_events
from airside.events.common import Tier
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import Handler
from airside.statements import Runner, binds_of, insert_of
from airside.types import known

DEFAULT_TIMEZONE = "Asia/Shanghai"


class StationCopy(SQLModel):
    code: str = Field(primary_key=True, max_length=3)
    name: str = Field(max_length=100)
    timezone: str = Field(max_length=64)
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # booking's; 0 before any event carried one


class MemberCopy(SQLModel):
    id: str = Field(primary_key=True, max_length=36)
    card_no: str = Field(max_length=32, index=True)
    name: str = Field(max_length=100)
    tier: Tier
    status: str = Field(max_length=20)
    version: int
    updated_at: datetime = Field(sa_type=UtcDateTime)


class CarrierCopy(SQLModel):
    """Booking's carrier as each service keeps it; a service adds the fields it needs of the snapshot."""

    __tablename__ = "carrier_copy"

    designator: str = Field(primary_key=True, max_length=3)
    name: str = Field(max_length=200)
    version: int


class ContractCopy(SQLModel):
    """Booking's contract of a carrier at a station as each service keeps it (its table declares the index
    ix_contract_copy_carrier_station: an index belongs to one table)."""

    __tablename__ = "contract_copy"

    id: str = Field(primary_key=True, max_length=64)
    carrier: str = Field(max_length=3)
    station: str = Field(max_length=3)
    valid_from: date  # the station's local days, inclusive
    valid_to: date | None = None
    status: str = Field(max_length=20)  # active | ended, kept as a string (a tolerant reader)
    version: int


StationT = TypeVar("StationT", bound=StationCopy)
MemberT = TypeVar("MemberT", bound=MemberCopy)


TIMEZONES = "airside.station_timezones"  # session.info key


def station_copier(table: type[StationT]) -> Handler:
    async def apply_station(session: AsyncSession, event: CloudEvent) -> None:
        station = booking_events.station_upserted.parse(event)
        if await keep_newest(session, table, station.model_dump(), key="code"):
            session.info.get(TIMEZONES, {}).pop(station.code, None)

    return apply_station


async def keep_newest(session: AsyncSession, table: Any, values: dict[str, Any], *, key: str = "id", version: str = "version") -> bool:
    """INSERT the copy, or UPDATE the row with the same `key` when `values` carry a higher `version`; an
    older or repeated snapshot changes nothing. True when the row was written.

    One statement on both databases, so consumers racing on one record never abort each other; a row
    the session holds is read again when written, so the session sees the copy as now stored.
    """
    run = await Runner.of_session(session)
    cache_key = (run.dialect.name, table, tuple(values), key, version)
    statement = _newest_wins.get(cache_key)
    if statement is None:  # built once per table and column set: building it costs more than running it
        columns = table.__table__.c
        upsert = insert_of(run.dialect.name)(table.__table__).values(binds_of(table.__table__, list(values)))
        statement = _newest_wins[cache_key] = upsert.on_conflict_do_update(
            index_elements=[key],
            set_={name: upsert.excluded[name] for name in values if name != key},
            where=columns[version] < upsert.excluded[version],
        ).returning(columns[key])
    written = bool(await run.rows(statement, values))
    held = session.identity_map.get(session.identity_key(table, values[key]))
    if written and held is not None:
        await session.refresh(held)
    return written


_newest_wins: dict[tuple[Any, ...], Any] = {}


def member_copier(table: type[MemberT]) -> Handler:
    columns = set(table.model_fields)

    async def apply_member(session: AsyncSession, event: CloudEvent) -> None:
        snapshot = booking_events.member_registered.parse(event).member
        values = {key: value for key, value in snapshot.model_dump().items() if key in columns}
        if known(Tier, snapshot.tier) is None:
            # A tier this release does not know changes no tier; a member first copied so is standard (docs/events.md, Versioning).
            values["tier"] = await session.scalar(select(table.tier).where(table.id == snapshot.id)) or Tier.standard  # type: ignore[arg-type]
        await keep_newest(session, table, values)

    return apply_member


async def station_timezone(session: AsyncSession, table: type[StationT], code: str) -> str:
    """The station's time zone, looked up once per transaction (a consumer's batch asks it per event)."""
    known = session.info.setdefault(TIMEZONES, {})
    if code not in known:
        known[code] = await session.scalar(select(table.timezone).where(table.code == code)) or DEFAULT_TIMEZONE  # type: ignore[arg-type]
    return str(known[code])


def copy_handlers(*, stations: type[StationT], members: type[MemberT]) -> dict[str, Handler]:
    """The handlers of booking's station and member events for a service keeping both copies."""
    apply_member = member_copier(members)
    return {
        booking_events.station_upserted.type: station_copier(stations),
        booking_events.member_registered.type: apply_member,
        booking_events.member_updated.type: apply_member,
    }


def snapshot_values(snapshot: BaseModel, table: Any) -> dict[str, Any]:
    """The snapshot's fields the copy has columns for: each service keeps what it needs of the same event.
    A JSON column takes its field as JSON (times and dates as ISO text), the others as Python values."""
    columns = {column.name: column for column in table.__table__.c}
    as_json = {name for name, column in columns.items() if isinstance(column.type, JSON)}
    return snapshot.model_dump(include=set(columns) - as_json) | snapshot.model_dump(mode="json", include=as_json)


def carrier_copy_handlers(*, carriers: type[CarrierCopy], contracts: type[ContractCopy]) -> dict[str, Handler]:
    """The handlers of booking's carrier and contract events for a service keeping both copies (docs/carriers.md):
    each keeps the fields its tables have columns for, newest version wins."""

    async def apply_carrier(session: AsyncSession, event: CloudEvent) -> None:
        carrier = carrier_events.carrier_upserted.parse(event).carrier
        await keep_newest(session, carriers, snapshot_values(carrier, carriers), key="designator")

    async def apply_contract(session: AsyncSession, event: CloudEvent) -> None:
        contract = carrier_events.contract_upserted.parse(event).contract
        await keep_newest(session, contracts, snapshot_values(contract, contracts))

    return {carrier_events.carrier_upserted.type: apply_carrier, carrier_events.contract_upserted.type: apply_contract}
