"""Carriers, contracts and terms: the rules and the writes (docs/carriers.md). Every write publishes the
whole carrier or contract through the outbox in its transaction; lounge and callcenter keep the newest."""

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.db.columns import utcnow
from airside.events import carriers as events
from airside.messaging.outbox import record
from airside.problems import conflict, invalid, not_found
from airside.versioning import stale
from booking.carriers.models import (
    Carrier,
    CarrierCreate,
    CarrierUpdate,
    Contract,
    ContractCreate,
    ContractEnd,
    ContractTerm,
    Rates,
    TermCreate,
)
from booking.products.models import Product
from booking.stations.models import Station

# --- carriers ---------------------------------------------------------------------------------


async def create_carrier(*, session: AsyncSession, body: CarrierCreate) -> Carrier:
    if await session.get(Carrier, body.designator) is not None:
        raise conflict("carrier_exists", f"carrier {body.designator} is registered already; change it with PATCH")
    contact = body.billing_contact.model_dump(mode="json", exclude_none=True) if body.billing_contact else None
    carrier = Carrier(designator=body.designator, name=body.name, billing_contact=contact)
    session.add(carrier)
    try:
        await session.flush()
    except IntegrityError as exc:  # a racing request registered it first
        raise conflict("carrier_exists", f"carrier {body.designator} is registered already") from exc
    record(session, events.carrier_upserted, events.CarrierEvent(carrier=carrier.snapshot()), subject=carrier.designator)
    return carrier


async def list_carriers(*, session: AsyncSession) -> list[Carrier]:
    return list((await session.execute(select(Carrier).order_by(Carrier.designator))).scalars().all())  # type: ignore[arg-type]


async def get_carrier(*, session: AsyncSession, designator: str) -> Carrier:
    carrier = await session.get(Carrier, designator)
    if carrier is None:
        raise not_found("carrier")
    return carrier


async def update_carrier(*, session: AsyncSession, designator: str, expected_version: int, body: CarrierUpdate) -> Carrier:
    carrier = await session.get(Carrier, designator, with_for_update=True)
    if carrier is None:
        raise not_found("carrier")
    if carrier.version != expected_version:
        raise stale(carrier.version)
    if body.name is not None:
        carrier.name = body.name
    if "billing_contact" in body.model_fields_set:
        carrier.billing_contact = body.billing_contact.model_dump(mode="json", exclude_none=True) if body.billing_contact else None
    carrier.version += 1
    carrier.updated_at = utcnow()
    await session.flush()
    record(session, events.carrier_upserted, events.CarrierEvent(carrier=carrier.snapshot()), subject=carrier.designator)
    return carrier


# --- contracts --------------------------------------------------------------------------------


def snapshot_of(contract: Contract, terms: Sequence[ContractTerm]) -> events.ContractSnapshot:
    return events.ContractSnapshot.model_validate(
        {
            "id": contract.id,
            "carrier": contract.carrier,
            "station": contract.station,
            "currency": contract.currency,
            "valid_from": contract.valid_from,
            "valid_to": contract.valid_to,
            "status": contract.status,
            "settlement": {"frequency": contract.frequency, "payment_days": contract.payment_days},
            "version": contract.version,
            "terms": [
                {"version": term.version, "effective_from": term.effective_from, "lounge": term.lounge, "assist": term.assist}
                for term in sorted(terms, key=lambda term: term.version)
            ],
        }
    )


async def _zone(session: AsyncSession, station: str) -> ZoneInfo:
    found = await session.get(Station, station)
    if found is None:
        raise invalid("body.station", f"unknown station {station}")
    return ZoneInfo(found.timezone)


async def _check_products(session: AsyncSession, rates: Rates) -> None:
    codes = [rate.product_code for rate in rates.assist]
    if not codes:
        return
    known = set((await session.execute(select(Product.code).where(Product.code.in_(codes)))).scalars())  # type: ignore[attr-defined]
    for index, code in enumerate(codes):
        if code not in known:
            raise invalid(f"body.assist.{index}.product_code", f"unknown product {code}")


def _rates_values(rates: Rates) -> dict[str, Any]:
    return {
        "lounge": rates.lounge.model_dump(mode="json") if rates.lounge else None,
        "assist": [rate.model_dump(mode="json") for rate in rates.assist],
    }


async def contract_terms(*, session: AsyncSession, contract_id: str) -> list[ContractTerm]:
    query = select(ContractTerm).where(ContractTerm.contract_id == contract_id).order_by(ContractTerm.version)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars().all())


async def _publish(session: AsyncSession, contract: Contract) -> events.ContractSnapshot:
    snapshot = snapshot_of(contract, await contract_terms(session=session, contract_id=contract.id))
    record(session, events.contract_upserted, events.ContractEvent(contract=snapshot), subject=contract.id)
    return snapshot


async def create_contract(*, session: AsyncSession, designator: str, body: ContractCreate, actor: str) -> events.ContractSnapshot:
    """A contract of a carrier at a station; at most one covers any day (else 409 contract_overlaps)."""
    await get_carrier(session=session, designator=designator)
    zone = await _zone(session, body.station)
    await _check_products(session, body)
    for other in await contracts_of(session=session, designator=designator, station=body.station):
        ends_after_start = other.valid_to is None or other.valid_to >= body.valid_from
        starts_before_end = body.valid_to is None or other.valid_from <= body.valid_to
        if ends_after_start and starts_before_end:
            raise conflict(
                "contract_overlaps",
                f"contract {other.id} already covers {designator} at {body.station} in that period",
                contract_id=other.id,
            )
    contract = Contract(
        carrier=designator,
        station=body.station,
        currency=body.currency,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        payment_days=body.settlement.payment_days,
        frequency=body.settlement.frequency,
        created_by=actor,
    )
    session.add(contract)
    # The first term runs from the start of the first local day: the rates the contract was signed with.
    start = datetime.combine(body.valid_from, time(0), tzinfo=zone)
    session.add(ContractTerm(contract_id=contract.id, version=1, effective_from=start, created_by=actor, **_rates_values(body)))
    await session.flush()
    return await _publish(session, contract)


async def contracts_of(*, session: AsyncSession, designator: str, station: str | None = None) -> list[Contract]:
    query = select(Contract).where(Contract.carrier == designator).order_by(Contract.station, Contract.valid_from, Contract.id)  # type: ignore[arg-type]
    if station is not None:
        query = query.where(Contract.station == station)
    return list((await session.execute(query)).scalars().all())


async def get_contract(*, session: AsyncSession, contract_id: str, for_update: bool = False) -> Contract:
    contract = await session.get(Contract, contract_id, with_for_update=for_update)
    if contract is None:
        raise not_found("contract")
    return contract


async def add_term(*, session: AsyncSession, contract_id: str, body: TermCreate, actor: str) -> events.ContractSnapshot:
    """A rate change from `effective_from` on (now when absent): a new term after every other, never in the past,
    so nothing already billed under a term changes (docs/carriers.md "Terms")."""
    contract = await get_contract(session=session, contract_id=contract_id, for_update=True)
    if contract.status == events.ContractStatus.ended:
        raise conflict("contract_ended", f"contract {contract.id} has ended")
    await _check_products(session, body)
    now = clock.now()
    effective_from = body.effective_from or now
    if effective_from < now:
        raise invalid("body.effective_from", "a new term starts now or later; what was billed under a term in force stays as it was")
    terms = await contract_terms(session=session, contract_id=contract.id)
    latest = terms[-1]
    if effective_from <= latest.effective_from:
        raise conflict(
            "term_order",
            f"term {latest.version} starts at {latest.effective_from.isoformat()}; a new term starts after it",
            latest_effective_from=latest.effective_from.isoformat(),
        )
    zone = await _zone(session, contract.station)
    if contract.valid_to is not None and effective_from.astimezone(zone).date() > contract.valid_to:
        raise invalid("body.effective_from", f"the contract ends on {contract.valid_to.isoformat()}")
    session.add(
        ContractTerm(
            contract_id=contract.id, version=latest.version + 1, effective_from=effective_from, created_by=actor, **_rates_values(body)
        )
    )
    contract.version += 1
    contract.updated_at = utcnow()
    await session.flush()
    return await _publish(session, contract)


async def end_contract(*, session: AsyncSession, contract_id: str, body: ContractEnd) -> events.ContractSnapshot:
    """End a contract on a day to come (it applies through `valid_to`) or now (`ended`: the lounge admits no
    one on it from the copy's arrival). Nothing billed under it changes; an ended contract stays ended."""
    contract = await get_contract(session=session, contract_id=contract_id, for_update=True)
    if contract.status == events.ContractStatus.ended:
        raise conflict("contract_ended", f"contract {contract.id} has ended")
    today = clock.now().astimezone(await _zone(session, contract.station)).date()
    if body.valid_to is None:
        contract.status, contract.valid_to = events.ContractStatus.ended.value, max(today, contract.valid_from)
    else:
        if body.valid_to < today or body.valid_to < contract.valid_from:
            raise invalid("body.valid_to", f"a contract ends today ({today.isoformat()}) or later, and not before valid_from")
        contract.valid_to = body.valid_to
    contract.version += 1
    contract.updated_at = utcnow()
    await session.flush()
    return await _publish(session, contract)


async def contract_snapshot(*, session: AsyncSession, contract_id: str) -> tuple[Contract, events.ContractSnapshot]:
    contract = await get_contract(session=session, contract_id=contract_id)
    return contract, snapshot_of(contract, await contract_terms(session=session, contract_id=contract.id))
