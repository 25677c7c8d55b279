"""Pure rules at the lounge door (docs/lounge.md): hours, the departure window, entitlement, guests, charges."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from airside.events.common import Tier
from lounge.flights.models import Flight
from lounge.lounges.models import Lounge
from lounge.members.entitlement import enters_free, guest_allowance
from lounge.sales.models import DAY_PASS_SKU, GUEST_FEE_SKU, Charge
from lounge.visits.models import Entitlement, Payer

DEPARTURE_WINDOW = timedelta(hours=3)


def is_open(opens: time, closes: time, now: datetime, timezone: str) -> bool:
    """Opening hours are local; a lounge closing after midnight wraps round, and one that closes
    when it opens (00:00-00:00, 06:00-06:00) is open round the clock."""
    if opens == closes:
        return True
    local = now.astimezone(ZoneInfo(timezone)).time()
    if opens <= closes:
        return opens <= local < closes
    return local >= opens or local < closes


def departure_refusal(flight: Flight, station: str, now: datetime) -> str | None:
    """Why this flight gives no entry here, or None: from this station, not gone, within the next 3 hours."""
    if flight.origin != station:
        return f"{flight.flight_no} departs from {flight.origin}, not {station}"
    if flight.gone:
        return f"{flight.flight_no} has already {'been cancelled' if flight.status == 'cancelled' else 'departed'}"
    departure = flight.departure
    if departure is None:
        return f"{flight.flight_no} has no departure time yet"
    if departure <= now:
        return f"{flight.flight_no} was due to depart at {departure.isoformat()}"
    if departure > now + DEPARTURE_WINDOW:
        return f"{flight.flight_no} departs more than 3 hours from now"
    return None


def entitlement_for(*, has_order: bool, carrier_pays: bool, tier: Tier | None) -> Entitlement:
    """An order with LOUNGE, else the carrier's contract (the boarding pass's cabin is covered), else the
    tier (gold and above enter free), else a paid day pass."""
    if has_order:
        return Entitlement.order
    if carrier_pays:
        return Entitlement.carrier
    if tier is not None and enters_free(tier):
        return Entitlement.tier
    return Entitlement.paid


def payer_of(entitlement: Entitlement, *, is_member: bool) -> Payer:
    """Who pays for the entry: the carrier under its contract, else the member, else the walk-in guest."""
    if entitlement == Entitlement.carrier:
        return Payer.carrier
    return Payer.member if is_member else Payer.guest


def free_guests(*, entitlement: Entitlement, tier: Tier | None, order_passengers: int = 1, carrier_allowance: int = 0) -> int:
    """The tier's allowance, and an order's own fellow passengers on top of it; on a carrier-paid visit the
    contract's allowance, or a member's tier allowance where that is more (a member never loses a free guest)."""
    allowance = guest_allowance(tier) if tier is not None else 0
    if entitlement == Entitlement.carrier:
        return max(carrier_allowance, allowance)
    if entitlement == Entitlement.order:
        return max(order_passengers - 1, 0) + allowance
    return allowance


def entry_charges(lounge: Lounge, *, entitlement: Entitlement, guests: int, free: int) -> list[Charge]:
    """What goes on the bill at the door: the day pass for a paid visit, the fee for each extra guest."""
    charges = []
    if entitlement == Entitlement.paid:
        charges.append(Charge(DAY_PASS_SKU, "Day pass", 1, lounge.day_pass_minor))
    if guests > free:
        charges.append(Charge(GUEST_FEE_SKU, "Guest fee", guests - free, lounge.guest_fee_minor))
    return charges


def complimentary_items_free(entitlement: Entitlement, *, complimentary_menu: bool) -> bool:
    """A guest who entered free, by an order or by their tier, is not charged for the menu's complimentary
    items; a carrier-paid guest is not when the carrier's term says complimentary_menu."""
    if entitlement == Entitlement.carrier:
        return complimentary_menu
    return entitlement in (Entitlement.order, Entitlement.tier)


def boarding_call_at(flight: Flight, minutes: int) -> datetime | None:
    departure = flight.departure
    return departure - timedelta(minutes=minutes) if departure is not None else None


def names_match(boarding_pass_name: str, name: str) -> bool:
    """`LI/WEI` on the pass against `Li Wei` (or `Wei Li`) held for the member: the same words."""

    def words(value: str) -> list[str]:
        return sorted(value.upper().replace("/", " ").replace("-", " ").split())

    return bool(words(boarding_pass_name)) and words(boarding_pass_name) == words(name)
