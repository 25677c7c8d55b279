"""Carriers and contracts over HTTP: admin manages them (docs/carriers.md); staff and the carrier itself read."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from airside import conditional
from airside.auth import STAFF_ROLES, Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.flight_numbers import Designator
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.problems import not_found
from airside.versioning import IfMatch, etag, set_etag
from booking.carriers import service
from booking.carriers.models import (
    Carrier,
    CarrierCreate,
    CarrierPublic,
    CarrierUpdate,
    ContractCreate,
    ContractEnd,
    ContractPublic,
    TermCreate,
)

router = APIRouter(tags=["carriers"])

ContractId = Annotated[str, Path(pattern=r"^ctr_[0-9a-f]{16}$", description="e.g. ctr_6f3b2a9d1c7e4f08")]
Admin = Annotated[Principal, Depends(require(Role.admin))]
Reader = Annotated[Principal, Depends(require(*STAFF_ROLES, Role.carrier))]


def _check_read(principal: Principal, designator: str) -> None:
    """Staff read every carrier (a passenger's airline is no secret); a carrier token only its own (else 404)."""
    if not principal.is_staff and not principal.is_carrier(designator):
        raise not_found("carrier")


def _public(carrier: Carrier) -> CarrierPublic:
    return CarrierPublic(**carrier.snapshot().model_dump(), created_at=carrier.created_at, updated_at=carrier.updated_at)


@router.post("/v1/carriers", summary="Register a carrier", status_code=201, response_model=CarrierPublic)
async def create_carrier(body: CarrierCreate, session: SessionDep, _admin: Admin, idempotency: IdempotencyDep) -> Response:
    """An airline booking serves under contract, by its IATA designator."""

    async def act() -> CarrierPublic:
        return _public(await service.create_carrier(session=session, body=body))

    return await idempotency.execute(session, act, status_code=201, headers=lambda carrier: {"ETag": etag(carrier.version)})


@router.get("/v1/carriers", summary="List carriers")
async def list_carriers(
    session: SessionDep, principal: Reader, cursor: Annotated[Keyset, keyset(str)], limit: LimitQuery = 200
) -> Page[CarrierPublic]:
    """Staff see every carrier, a carrier token its own."""
    carriers = [
        carrier
        for carrier in await service.list_carriers(session=session)
        if principal.is_staff or principal.is_carrier(carrier.designator)
    ]
    kept, next_cursor = cursor.page_of(carriers, limit, lambda carrier: (carrier.designator,))
    return Page(items=[_public(carrier) for carrier in kept], next_cursor=next_cursor)


@router.get("/v1/carriers/{designator}", summary="Read a carrier", response_model=CarrierPublic, responses=CONDITIONAL_GET)
async def get_carrier(designator: Designator, session: SessionDep, principal: Reader, if_none_match: IfNoneMatch = None) -> Response:
    """One carrier, with the ETag to send as If-Match when changing it."""
    _check_read(principal, designator)
    carrier = await service.get_carrier(session=session, designator=designator)
    return conditional.answer(CarrierPublic, _public(carrier), if_none_match, version=carrier.version)


@router.patch("/v1/carriers/{designator}", summary="Change a carrier")
async def update_carrier(
    designator: Designator, body: CarrierUpdate, expected_version: IfMatch, session: SessionDep, _admin: Admin, response: Response
) -> CarrierPublic:
    """Change a carrier's name or billing contact; needs If-Match with the ETag read."""
    carrier = await service.update_carrier(session=session, designator=designator, expected_version=expected_version, body=body)
    public = _public(carrier)
    await session.commit()
    set_etag(response, public.version)
    return public


@router.post("/v1/carriers/{designator}/contracts", summary="Make a contract", status_code=201, response_model=ContractPublic)
async def create_contract(
    designator: Designator, body: ContractCreate, session: SessionDep, admin: Admin, idempotency: IdempotencyDep
) -> Response:
    """A contract of the carrier at a station: what it covers, at what rates, and how it settles. Its first
    term runs from the start of valid_from's local day."""

    async def act() -> ContractPublic:
        snapshot = await service.create_contract(session=session, designator=designator, body=body, actor=admin.sub)
        contract = await service.get_contract(session=session, contract_id=snapshot.id)
        return ContractPublic(**snapshot.model_dump(), created_at=contract.created_at)

    return await idempotency.execute(session, act, status_code=201, headers=lambda contract: {"ETag": etag(contract.version)})


@router.get("/v1/carriers/{designator}/contracts", summary="List a carrier's contracts")
async def list_contracts(
    designator: Designator,
    session: SessionDep,
    principal: Reader,
    cursor: Annotated[Keyset, keyset(str, str)],
    limit: LimitQuery = 200,
) -> Page[ContractPublic]:
    """The carrier's contracts at every station, by station and start."""
    _check_read(principal, designator)
    await service.get_carrier(session=session, designator=designator)
    contracts = await service.contracts_of(session=session, designator=designator)
    kept, next_cursor = cursor.page_of(contracts, limit, lambda contract: (contract.station, contract.id))
    items = []
    for contract in kept:
        snapshot = service.snapshot_of(contract, await service.contract_terms(session=session, contract_id=contract.id))
        items.append(ContractPublic(**snapshot.model_dump(), created_at=contract.created_at))
    return Page(items=items, next_cursor=next_cursor)


@router.get("/v1/contracts/{contract_id}", summary="Read a contract", response_model=ContractPublic, responses=CONDITIONAL_GET)
async def get_contract(contract_id: ContractId, session: SessionDep, principal: Reader, if_none_match: IfNoneMatch = None) -> Response:
    """One contract with every term it ever had, oldest first."""
    contract, snapshot = await service.contract_snapshot(session=session, contract_id=contract_id)
    _check_read(principal, contract.carrier)
    public = ContractPublic(**snapshot.model_dump(), created_at=contract.created_at)
    return conditional.answer(ContractPublic, public, if_none_match, version=contract.version)


@router.post("/v1/contracts/{contract_id}/terms", summary="Change a contract's rates", status_code=201, response_model=ContractPublic)
async def add_term(contract_id: ContractId, body: TermCreate, session: SessionDep, admin: Admin, idempotency: IdempotencyDep) -> Response:
    """A new term from effective_from on (now when absent, never in the past): visits and orders before it keep
    the rate they were billed at."""

    async def act() -> ContractPublic:
        snapshot = await service.add_term(session=session, contract_id=contract_id, body=body, actor=admin.sub)
        contract = await service.get_contract(session=session, contract_id=snapshot.id)
        return ContractPublic(**snapshot.model_dump(), created_at=contract.created_at)

    return await idempotency.execute(session, act, status_code=201, headers=lambda contract: {"ETag": etag(contract.version)})


@router.post("/v1/contracts/{contract_id}/end", summary="End a contract")
async def end_contract(
    contract_id: ContractId, body: ContractEnd, session: SessionDep, _admin: Admin, response: Response
) -> ContractPublic:
    """End the contract on a day to come (`valid_to`) or now; what was billed under it stays as it was."""
    snapshot = await service.end_contract(session=session, contract_id=contract_id, body=body)
    contract = await service.get_contract(session=session, contract_id=snapshot.id)
    public = ContractPublic(**snapshot.model_dump(), created_at=contract.created_at)
    await session.commit()
    set_etag(response, public.version)
    return public
