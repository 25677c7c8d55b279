"""The carrier contract in force at a lounge's door (docs/lounge.md "Carrier-paid entitlement")."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events.carriers import ContractTerm, LoungeCover, term_in_force, valid_on
from lounge.carriers.models import Contract


@dataclass(frozen=True)
class LoungeContract:
    """A contract valid at the station today whose term in force buys lounge access."""

    contract: Contract
    term: ContractTerm
    cover: LoungeCover

    def covers_cabin(self, cabin: str | None) -> bool:
        """The boarding pass's compartment code is one the carrier pays lounge access for."""
        return cabin is not None and cabin.upper() in {code.upper() for code in self.cover.cabins}

    def frequent_flyer_tier_covered(self, *, airline: str | None, number: str | None, tier: str | None) -> str | None:
        """The term's tier, as the contract spells it, when the pass's leg carries a frequent-flyer number of this
        contract's own carrier (a partner's programme does not count) and the tier the desk read off the card is
        one of the term's, in any case. A pass carries no tier (Resolution 792 has none): the number proves the
        membership, the desk the tier."""
        if tier is None or not self.carries_own_number(airline=airline, number=number):
            return None
        return next((covered for covered in self.cover.ff_tiers if covered.strip().casefold() == tier.casefold()), None)

    def carries_own_number(self, *, airline: str | None, number: str | None) -> bool:
        return number is not None and airline is not None and airline.upper() == self.contract.carrier.upper()


async def lounge_contract_at(*, session: AsyncSession, carrier: str, station: str, day: date, now: datetime) -> LoungeContract | None:
    """The carrier's contract at this station valid on the station's local `day` with lounge terms in force
    `now`; of several, the one that started last."""
    query = select(Contract).where(Contract.carrier == carrier, Contract.station == station)
    found = []
    for contract in (await session.execute(query)).scalars():
        if not valid_on(status=contract.status, valid_from=contract.valid_from, valid_to=contract.valid_to, day=day):
            continue
        term = term_in_force([ContractTerm.model_validate(term) for term in contract.terms], now)
        if term is not None and term.lounge is not None:
            found.append(LoungeContract(contract, term, term.lounge))
    return max(found, key=lambda held: (held.contract.valid_from, held.contract.id), default=None)
