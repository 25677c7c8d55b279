"""POST /v1/ops/reannounce: snapshots of every member and open order, for a consumer building its copy."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from airside.auth import Principal, Role, require
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from booking.ops import service

router = APIRouter(prefix="/v1/ops", tags=["ops"])


class Reannounced(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"members": 1520, "orders": 86}]})

    members: int
    orders: int


@router.post("/reannounce", summary="Republish every member and open order")
async def reannounce(
    session: SessionDep, _admin: Annotated[Principal, Depends(require(Role.admin))], idempotency: IdempotencyDep
) -> Reannounced:
    """Publish a snapshot of every member and open order, for a consumer rebuilding its copy (admin)."""

    async def act() -> Reannounced:
        members, orders = await service.reannounce(session)
        return Reannounced(members=members, orders=orders)

    return await idempotency.execute(session, act)  # type: ignore[return-value]
