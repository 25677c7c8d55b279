"""Order routes: create, read, change, history, search; the status moves are in lifecycle_views."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from airside import conditional
from airside.auth import CurrentUser
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import DatabaseDep, SessionDep
from airside.events.booking import OrderStatus
from airside.flight_numbers import FLIGHT_NO_PATTERN
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.problems import forbidden
from airside.types import IsoDate, RecordId
from airside.versioning import IfMatch, set_etag
from booking.orders import changes, creation, reads, snapshots
from booking.orders.access import Changer, Creator, visible_order
from booking.orders.models import MEMBER_CHANNELS, HistoryEntry, OrderCreate, OrderPublic, OrderUpdate

router = APIRouter(prefix="/v1/orders", tags=["orders"])


@router.post("", summary="Book an order", status_code=201)
async def create_order(body: OrderCreate, db: DatabaseDep, principal: Creator, idempotency: IdempotencyDep) -> OrderPublic:
    """Book a concierge or lounge-access order for a member and a flight; a retry with the same Idempotency-Key gets the first answer."""
    if principal.is_member_only:
        if not principal.owns_member(body.member_id):
            raise forbidden("a member books only for themself")
        if body.channel not in MEMBER_CHANNELS:
            raise forbidden("members book through the app or the web")
    elif principal.is_staff:
        principal.require_station_to_create(body.station)
    elif body.payer is None or not principal.is_carrier(body.payer.carrier):  # a carrier token (docs/carriers.md)
        raise forbidden("a carrier books the orders it pays itself")
    return await creation.create_order(db=db, body=body, principal=principal, idempotency=idempotency)  # type: ignore[return-value]


@router.get("", summary="Find orders")
async def search_orders(
    session: SessionDep,
    principal: CurrentUser,
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    station: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    day: Annotated[IsoDate | None, Query(alias="date", description="The station's local day of meet_at")] = None,
    status: OrderStatus | None = None,
    member_id: Annotated[str | None, Query(max_length=36)] = None,
    flight_no: Annotated[str | None, Query(pattern=FLIGHT_NO_PATTERN)] = None,
    limit: LimitQuery = 50,
) -> Page[OrderPublic]:
    """Orders visible to the caller (by station, member, status or time); a carrier's are the partner orders it pays."""
    stations, payer_carrier = principal.station_filter(), None
    if principal.is_member_only:
        if member_id is not None and not principal.owns_member(member_id):
            return Page(items=[], next_cursor=None)
        member_id, stations = principal.member_id, None
    elif not principal.is_staff:
        if principal.carrier is None:
            raise forbidden("your role may not list orders")
        payer_carrier, stations = principal.carrier, None  # docs/carriers.md "Partner orders"
    if station is not None:
        stations = frozenset({station}) & stations if stations is not None else frozenset({station})
    orders = await reads.search_orders(
        session=session,
        stations=stations,
        day=day,
        status=status.value if status else None,
        member_id=member_id,
        flight_no=flight_no,
        payer_carrier=payer_carrier,
        after=cursor.after,
        limit=limit,
    )
    kept, next_cursor = cursor.page(orders, limit, lambda order: (order.meet_at, order.id))
    return Page(items=[await snapshots.public(session, order) for order in kept], next_cursor=next_cursor)


@router.get("/{order_id}", summary="Read an order", response_model=OrderPublic, responses=CONDITIONAL_GET)
async def get_order(order_id: str, session: SessionDep, principal: CurrentUser, if_none_match: IfNoneMatch = None) -> Response:
    """One order, with the ETag to send as If-Match when changing it."""
    order = await visible_order(session, principal, order_id)
    return conditional.answer(OrderPublic, await snapshots.public(session, order), if_none_match, version=order.version)


@router.get("/{order_id}/history", summary="Read an order's history")
async def get_history(
    order_id: str, session: SessionDep, principal: CurrentUser, cursor: Annotated[Keyset, keyset(int)], limit: LimitQuery = 200
) -> Page[HistoryEntry]:
    """Every change of an order."""
    order = await visible_order(session, principal, order_id)
    entries, next_cursor = cursor.page_of(await reads.history_of(session, order), limit, lambda entry: (entry.version,))
    return Page(items=[HistoryEntry.model_validate(entry, from_attributes=True) for entry in entries], next_cursor=next_cursor)


@router.patch("/{order_id}", summary="Change an order")
async def change_order(
    order_id: str, body: OrderUpdate, expected_version: IfMatch, session: SessionDep, principal: Changer, response: Response
) -> OrderPublic:
    """Change an order's flight, items, passengers, meeting time or details; needs If-Match with the ETag read."""
    order = await visible_order(session, principal, order_id)
    order = await changes.change_order(session=session, order=order, expected_version=expected_version, body=body, principal=principal)
    public = await snapshots.public(session, order)
    await session.commit()
    set_etag(response, order.version)
    return public
