"""The order's hot statements, built from the models' tables: what creating and completing read in one
round trip, and the heads of their write plans (airside.statements)."""

import functools
from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, literal, select

from airside.idempotency import RECORD as IDEMPOTENCY
from airside.idempotency import REPLAY_COLUMNS, recorded
from airside.statements import Head, insert_unless_taken, update_at_version
from booking.concierges.models import Concierge
from booking.flights.models import Flight
from booking.members.models import Member
from booking.orders.models import Order, OrderHistory
from booking.products.models import Product
from booking.stations.models import Station


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


ORDER, HISTORY, FLIGHT, PRODUCT = _table(Order), _table(OrderHistory), _table(Flight), _table(Product)
STATION, MEMBER, CONCIERGE = _table(Station), _table(Member), _table(Concierge)
ORDER_COLUMNS = tuple(column.name for column in ORDER.columns)
FLIGHT_COLUMNS = tuple(column.name for column in FLIGHT.columns)
PRODUCT_COLUMNS = tuple(column.name for column in PRODUCT.columns)

NEW_ORDER = insert_unless_taken(ORDER, unique=["ref"])  # a ref drawn twice (one in a billion) writes nothing: draw again


def _param(table: Table, column: str, name: str) -> Any:
    return bindparam(name, type_=table.c[column].type)


@functools.cache
def booking_context(products: int) -> Select[Any]:
    """Everything a new order is checked against, in one read: its station's zone, its member's tier, its
    flight, its `products` products (one row each; one row of NULLs when none is known) and a stored answer."""
    one = select(literal(1).label("one")).subquery("one")
    codes = [_param(PRODUCT, "code", f"product_{index}") for index in range(products)]
    joined = (
        one.outerjoin(STATION, STATION.c.code == _param(STATION, "code", "station"))
        .outerjoin(MEMBER, MEMBER.c.id == _param(MEMBER, "id", "member_id"))
        .outerjoin(
            FLIGHT,
            and_(
                FLIGHT.c.flight_no == _param(FLIGHT, "flight_no", "flight_no"),
                FLIGHT.c.flight_date == _param(FLIGHT, "flight_date", "flight_date"),
            ),
        )
        .outerjoin(PRODUCT, PRODUCT.c.code.in_(codes))
        .outerjoin(IDEMPOTENCY, recorded())
    )
    return select(
        STATION.c.timezone.label("station_timezone"),
        MEMBER.c.tier.label("member_tier"),
        *(FLIGHT.c[name].label(f"flight_{name}") for name in FLIGHT_COLUMNS),
        *(PRODUCT.c[name].label(f"product_{name}") for name in PRODUCT_COLUMNS),
        *REPLAY_COLUMNS,
    ).select_from(joined)


# An order with what its snapshot needs (its flight, its concierge) and what its worker check needs, and a stored answer.
ORDER_IN_CONTEXT = (
    select(
        *ORDER.c,
        *(FLIGHT.c[name].label(f"flight_{name}") for name in FLIGHT_COLUMNS),
        CONCIERGE.c.name.label("concierge_name"),
        CONCIERGE.c.subject.label("concierge_subject"),
        *REPLAY_COLUMNS,
    )
    .select_from(
        ORDER.outerjoin(FLIGHT, and_(FLIGHT.c.flight_no == ORDER.c.flight_no, FLIGHT.c.flight_date == ORDER.c.flight_date))
        .outerjoin(CONCIERGE, CONCIERGE.c.id == ORDER.c.concierge_id)
        .outerjoin(IDEMPOTENCY, recorded())
    )
    .where(ORDER.c.id == _param(ORDER, "id", "order_id"))
)


@functools.cache
def order_change(names: tuple[str, ...]) -> Head:
    """The versioned save of an order's `names` (and updated_at): only on the version read."""
    return update_at_version(ORDER, (*names, "updated_at"))


def prefixed(row: dict[str, Any], prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: row[prefix + name] for name in names}
