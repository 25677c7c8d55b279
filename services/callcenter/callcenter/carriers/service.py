"""What an agent reads of a carrier: the copy, with its contracts at the caller's stations (docs/callcenter.md "Carriers")."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.problems import not_found
from callcenter.carriers.models import Carrier, CarrierDetail, Contract, ContractSummary


async def carrier_detail(session: AsyncSession, designator: str, stations: frozenset[str] | None) -> CarrierDetail:
    """404 until booking's first event about the carrier arrived; contracts at `stations` (None: all), by station
    and then the latest start first."""
    carrier = await session.get(Carrier, designator)
    if carrier is None:
        raise not_found("carrier")
    query = select(Contract).where(Contract.carrier == designator)
    if stations is not None:
        query = query.where(Contract.station.in_(sorted(stations)))  # type: ignore[attr-defined]
    contracts = (await session.execute(query.order_by(Contract.station, Contract.valid_from.desc(), Contract.id))).scalars()  # type: ignore[attr-defined]
    return CarrierDetail(
        designator=carrier.designator,
        name=carrier.name,
        billing_contact=carrier.billing_contact,
        version=carrier.version,
        contracts=[ContractSummary.model_validate(contract, from_attributes=True) for contract in contracts],
    )
