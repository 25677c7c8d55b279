"""Booking rules shared by creating and changing an order, on rows already read (no session): products, tier, SSR,
station, flight, meeting time, lead time, price."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airside import clock
from airside.events.common import Tier
from airside.problems import conflict, invalid
from booking.carriers.models import PayerIn
from booking.carriers.pricing import PartnerRates
from booking.flights.models import Flight
from booking.orders import fees, times
from booking.orders.models import Channel, FlightRef, ItemIn, OrderCreate, PassengerIn
from booking.products.models import DEFAULT_MIN_LEAD_MINUTES, Product

TIER_RANK = {tier.value: rank for rank, tier in enumerate(Tier)}
REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone


def chosen_products(items: list[ItemIn], known: dict[str, Product]) -> list[Product]:
    """The products an order names, each once and each known (else 422 naming the item)."""
    codes = [item.product for item in items]
    if len(set(codes)) != len(codes):
        raise invalid("body.items", "name each product once")
    for index, code in enumerate(codes):
        if code not in known:
            raise invalid(f"body.items.{index}.product", f"unknown product {code}")
    return [known[code] for code in codes]


def check_products(chosen: list[Product], *, passengers: list[PassengerIn], tier: str) -> None:
    """ASSIST needs an SSR code on a passenger (422); VIP_CHANNEL needs platinum or above (409)."""
    for product in chosen:
        if product.requires_ssr and not any(passenger.ssr for passenger in passengers):
            raise invalid("body.passengers", f"{product.code} needs an SSR code (e.g. WCHR) on at least one passenger")
        if product.min_tier and TIER_RANK[tier] < TIER_RANK[product.min_tier]:
            raise conflict(
                "tier_required",
                f"{product.code} is for members of tier {product.min_tier} and above; this member is {tier}",
                required_tier=product.min_tier,
            )


def check_payer(channel: str, payer: PayerIn | None) -> None:
    """A partner order names the carrier that pays it, and only a partner order does (docs/carriers.md "Partner orders")."""
    if channel == Channel.partner and payer is None:
        raise invalid("body.payer", 'a partner order names the carrier that pays it: {"carrier": "CA"}')
    if payer is not None and channel != Channel.partner:
        raise invalid("body.channel", "an order a carrier pays is booked on channel partner")


def check_station(station: str, direction: str, flight: FlightRef) -> None:
    """The station is where the service happens: the origin for a departure, else the destination."""
    where = flight.origin if direction == "departure" else flight.destination
    if where != station:
        side = "origin" if direction == "departure" else "destination"
        raise invalid("body.station", f"a {direction} at {station} needs a flight whose {side} is {station}, not {where}")


def check_flight(known: Flight | None, ref: FlightRef, direction: str) -> None:
    """A known flight must have the order's route; an unknown one needs std (departure) or sta."""
    if known is not None:
        for side in ("origin", "destination"):
            if getattr(known, side) != getattr(ref, side):
                route = f"{known.origin} → {known.destination}"
                raise invalid(f"body.flight.{side}", f"booking knows {ref.flight_no} on {ref.flight_date} as {route}")
    else:
        needed = "std" if direction == "departure" else "sta"
        if getattr(ref, needed) is None:
            raise invalid(f"body.flight.{needed}", f"booking does not know {ref.flight_no} on {ref.flight_date}; give its {needed}")


def flight_to_write(known: Flight | None, ref: FlightRef) -> bool:
    """Whether the order brings booking a flight it lacks, or a time its flight lacks (flights.ensure_flight)."""
    if known is None:
        return True
    return any(getattr(ref, name) is not None and getattr(known, name) is None for name in ("std", "sta"))


def meet_at_for(direction: str, flight: Flight, given: datetime | None) -> datetime:
    if given is not None:
        return given
    meet_at = times.default_meet_at(direction, departure=flight.departure, arrival=flight.arrival, sta=flight.sta)
    if meet_at is None:
        field = "std" if direction == "departure" else "sta"
        raise invalid(f"body.flight.{field}", f"booking does not know {flight.flight_no}'s {field}; give it, or meet_at")
    return meet_at


def service_minutes(chosen: list[Product]) -> int:
    return max((product.duration_minutes or 0 for product in chosen), default=0)


def lead_time(chosen: list[Product]) -> timedelta:
    return timedelta(minutes=max((product.min_lead_minutes for product in chosen), default=DEFAULT_MIN_LEAD_MINUTES))


@dataclass(frozen=True)
class Pricing:
    base_minor: int
    late_fee_minor: int

    @property
    def price_minor(self) -> int:
        return self.base_minor + self.late_fee_minor


def price(chosen: list[Product], *, tier: str, late: bool, partner: PartnerRates | None = None) -> Pricing:
    """The items at the member's tier, or at the contract's rates when a carrier pays (each item must be
    covered: else 409 not_covered), plus 20% when staff book inside the lead time."""
    if partner is None:
        base = sum(product.price_for(tier) for product in chosen)
    else:
        missing = [product.code for product in chosen if product.code not in partner.rates]
        if missing:
            raise conflict(
                "not_covered", f"contract {partner.contract_id} of {partner.carrier} does not cover {', '.join(missing)}", products=missing
            )
        base = sum(partner.rates[product.code] for product in chosen)
    return Pricing(base_minor=base, late_fee_minor=fees.late_fee(base) if late else 0)


def check_lead(*, meet_at: datetime, chosen: list[Product], member_booking: bool) -> bool:
    """True when the booking is late: members are refused (409 too_late), staff pay the late fee."""
    now = clock.now()
    if meet_at <= now:
        raise conflict("too_late", f"the meeting time {meet_at.isoformat()} has passed")
    late = now > meet_at - lead_time(chosen)
    if late and member_booking:
        minutes = int(lead_time(chosen).total_seconds() // 60)
        raise conflict("too_late", f"book at least {minutes} minutes before the meeting time, or call us")
    return late


def order_times(meet_at: datetime, zone: ZoneInfo, chosen: list[Product]) -> times.OrderTimes:
    return times.order_times(meet_at, zone, service_minutes(chosen))


def partner_values(partner: PartnerRates | None, chosen: list[Product]) -> dict[str, Any]:
    """The payer (and its carrier, the column a carrier's reads filter on) and the currency of an order a carrier
    pays; nothing for a member's."""
    if partner is None:
        return {}
    return {"payer": partner.payer([product.code for product in chosen]), "payer_carrier": partner.carrier, "currency": partner.currency}


def new_order_values(
    body: OrderCreate,
    *,
    flight: Flight,
    chosen: list[Product],
    pricing: Pricing,
    order_times: times.OrderTimes,
    created_by: str,
    partner: PartnerRates | None = None,
) -> dict[str, Any]:
    """The columns of a new order, all but its ref (drawn again should it be taken)."""
    return dict(
        member_id=body.member_id,
        station=body.station,
        direction=body.direction.value,
        channel=body.channel.value,
        flight_no=flight.flight_no,
        flight_date=flight.flight_date,
        items=[{"product": product.code} for product in chosen],
        passengers=[passenger.model_dump() for passenger in body.passengers],
        meet_at_given=body.meet_at is not None,
        service_minutes=service_minutes(chosen),
        meeting_point=body.meeting_point,
        checked_bags=body.checked_bags,
        seat_preference=body.seat_preference,
        notes=body.notes,
        source_ticket_id=body.source_ticket_id,
        price_minor=pricing.price_minor,
        late_fee_minor=pricing.late_fee_minor,
        created_by=created_by,
        **order_times.as_values(),
        **partner_values(partner, chosen),
    )


def random_ref(station: str) -> str:
    """A short code read out on the phone, e.g. PEK-7KQ2MX; the unique index backs it."""
    return f"{station}-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(6))
