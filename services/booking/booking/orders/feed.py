"""Orders as live feeds (docs/feeds.md): a station's orders for its concierge leads and managers (a concierge:
the orders assigned to them), and one order for the member who owns it."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from airside.auth import CurrentUser, Role
from airside.db.dependencies import DatabaseDep
from airside.feeds.hub import FeedEvent, View
from airside.feeds.stream import FEED_RESPONSES, AccessToken, FeedHubDep, FeedResponse, LastEventId, open_feed
from airside.problems import forbidden
from booking.concierges import service as concierges
from booking.orders.access import LEADS, Worker, visible_order

router = APIRouter(tags=["orders"])

StationCode = Annotated[str, Path(pattern="^[A-Z]{3}$", description="IATA airport code")]


def _order(item: FeedEvent) -> dict[str, Any] | None:
    order = item.event.data.get("order")
    return order if isinstance(order, dict) else None


def station_view(code: str, concierge_id: str | None) -> View:
    """`concierge_id` None: every order of the station (a lead). Else the concierge's own orders, and a frame
    marked as leaving when one of them goes to someone else (reassigned, or the concierge taken off it)."""
    shown: set[str] = set()

    def view(item: FeedEvent) -> dict[str, Any] | None:
        order = _order(item)
        if order is None or order.get("station") != code:
            return None
        if concierge_id is None:
            return {}
        assigned = (order.get("concierge") or {}).get("id")
        previous = (item.event.data.get("previous_concierge") or {}).get("id")
        if assigned == concierge_id:
            shown.add(order["id"])
            return {}
        if order["id"] in shown or previous == concierge_id:
            shown.discard(order["id"])
            return {"leaves": True}
        return None

    return view


def order_view(order_id: str) -> View:
    def view(item: FeedEvent) -> dict[str, Any] | None:
        order = _order(item)
        return {} if order is not None and order.get("id") == order_id else None

    return view


@router.get(
    "/v1/stations/{code}/orders/stream", summary="Watch a station's orders live", response_class=FeedResponse, responses=FEED_RESPONSES
)
async def station_orders_stream(
    code: StationCode,
    request: Request,
    db: DatabaseDep,
    principal: Worker,
    hub: FeedHubDep,
    resume_after: LastEventId,
    access_token: AccessToken = None,  # read by airside.auth; declared so the documents list it
) -> FeedResponse:
    """A station's orders as they are booked, confirmed, assigned, moved, started and completed (docs/feeds.md):
    load them with GET /v1/orders?station= after `ready`, then apply the frames. A concierge sees their own."""
    if not principal.covers(code):
        raise forbidden(f"you do not work at station {code}")
    concierge_id = None
    if not principal.has(*LEADS, Role.admin):
        async with db.session() as session:  # not the request's session: the stream would hold its connection
            concierge = await concierges.concierge_for_subject(session=session, subject=principal.sub)
        if concierge is None:
            raise forbidden("you have no concierge record at this station")
        concierge_id = concierge.id
    return await open_feed(request, hub, station_view(code, concierge_id), resume_after)


@router.get("/v1/orders/{order_id}/stream", summary="Watch an order live", response_class=FeedResponse, responses=FEED_RESPONSES)
async def order_stream(
    order_id: str,
    request: Request,
    db: DatabaseDep,
    principal: CurrentUser,
    hub: FeedHubDep,
    resume_after: LastEventId,
    access_token: AccessToken = None,  # read by airside.auth; declared so the documents list it
) -> FeedResponse:
    """One order's changes, for whoever may read the order (its member, staff of its station, the carrier paying it; docs/feeds.md):
    load it with GET /v1/orders/{order_id} after `ready`, then apply the frames."""
    async with db.session() as session:  # not the request's session: the stream would hold its connection
        order = await visible_order(session, principal, order_id)
    return await open_feed(request, hub, order_view(order.id), resume_after)
