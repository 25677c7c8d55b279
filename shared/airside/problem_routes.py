"""`GET /problems` and `GET /problems/{slug}`: the problem types a service answers, so every `type` resolves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from airside.problem_types import ProblemType, ProblemTypes
from airside.problems import not_found
from airside.route_contract import problem_types

problem_router = APIRouter(prefix="/problems", tags=["problems"])
Slug = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$", examples=["lounge_full"])]


@problem_router.get("", summary="List the problem types")
async def list_problem_types(request: Request) -> ProblemTypes:
    """Every problem type this service answers, by slug: its status, title and meaning."""
    return ProblemTypes(items=problem_types(request.app))


@problem_router.get("/{slug}", summary="Read a problem type")
async def get_problem_type(slug: Slug, request: Request) -> ProblemType:
    """One problem type: what a problem body's `type` (`/problems/<slug>`) names."""
    for problem_type in problem_types(request.app):
        if problem_type.slug == slug:
            return problem_type
    raise not_found("problem type")
