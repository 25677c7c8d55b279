"""The problem-type registry: every `type` a service answers, with its status, title and meaning.

Which problems a service has, and their status and title, is read from its code
(`problem_scan`); only the meaning, a sentence for the people writing front ends, is written
here. `GET /problems` and `GET /problems/{slug}` serve it (`problem_routes`), docs/http.md shows
it, and tests/test_openapi_contract.py checks that every slug the code raises has a meaning here
and that each one here is raised somewhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from airside.problem_scan import Raised


class ProblemType(BaseModel):
    type: str = Field(description="The `type` of a problem body: this resource's own path", examples=["/problems/lounge_full"])
    slug: str = Field(examples=["lounge_full"])
    status: int = Field(description="The HTTP status it is answered with", examples=[409])
    title: str = Field(examples=["Lounge full"])
    meaning: str = Field(description="When it is answered and what a caller can do", examples=["The lounge has no room for ..."])


class ProblemTypes(BaseModel):
    items: list[ProblemType]


# Refusals the framework gives before any of our code runs (see problems.install_problem_handlers).
FRAMEWORK = (
    Raised(400, "bad_request", "Bad request"),
    Raised(404, "not_found", "Not found"),
    Raised(405, "method_not_allowed", "Method not allowed"),
    Raised(422, "validation_error", "Invalid request"),
    Raised(500, "internal_error", "Internal error"),
    Raised(503, "unavailable", "Service unavailable"),
)

MEANINGS = {
    # Any service: the framework, tokens, versions, lists.
    "bad_request": (
        "The body could not be read at all: its bytes are not UTF-8 (text that is not JSON is a 422). "
        "Fix the request; retrying it unchanged fails again."
    ),
    "unauthorized": "No bearer token was sent. Obtain one from the identity provider and send `Authorization: Bearer <token>`.",
    "invalid_token": "The token is expired, forged or its claims have the wrong shape. Obtain a new token.",
    "forbidden": "Your role or stations do not allow this (the `detail` says which rule). Another role may do it.",
    "not_found": "No such record, or it belongs to another station or member (existence is not revealed), or no such route.",
    "method_not_allowed": "The route does not answer this HTTP method.",
    "validation_error": "Invalid input: `errors` lists every bad field as `body.items.0.product`, `query.cursor`, `header.If-Match`.",
    "invalid_cursor": "The `cursor` is not one this list issued, or was altered. Send a `next_cursor` exactly as a page gave it.",
    "precondition_required": "A PATCH needs `If-Match` with the ETag you read, so no change is overwritten.",
    "precondition_failed": "The record changed since you read it (`current_version` says to what). Read it again and reapply.",
    "concurrent_change": "The record changed while this request ran. Read it again and retry.",
    "illegal_transition": "The record's status does not allow this step (the body names the current status).",
    "subject_taken": "The token subject is already another person's record.",
    "replay_failed": "The parked event failed again (its handler, or the stream refused it); it stays parked (`detail` says why).",
    "not_failing": "The event has not failed to publish: it waits behind earlier ones. Only an event the relay keeps failing is set aside.",
    "internal_error": "A defect on our side, logged with its correlation id: quote the `X-Correlation-ID` to support.",
    "unavailable": "The database or the identity provider cannot be reached. Retry after `Retry-After` seconds.",
    # booking
    "card_no_taken": "The card number belongs to another member.",
    "concierge_unavailable": "The concierge is off shift, elsewhere or already busy at that time (`concierge_id` says who).",
    "no_concierge_needed": "The order has only lounge access: no concierge is assigned to it.",
    "stale_status": "Booking already holds a newer status of this flight; the older one is not applied.",
    "tier_required": "A product in the order needs a higher membership tier than the member has.",
    "too_early": "A no-show can be recorded only from 30 minutes after the meeting time.",
    "too_late": "The meeting time has passed or is nearer than the products' lead time: call the service desk instead.",
    # booking: carriers and statements (docs/carriers.md)
    "carrier_exists": "A carrier with this designator is registered already: change it with PATCH.",
    "contract_overlaps": "Another contract of the carrier at the station covers part of that period (`contract_id` says which).",
    "term_order": "A new term starts after the contract's latest term (`latest_effective_from`).",
    "contract_ended": "The contract has ended: it takes no new term and cannot end again.",
    "no_contract": "The paying carrier has no active contract at the station covering the service's day.",
    "not_covered": "The carrier's contract term does not cover these products (`products`).",
    "already_disputed": "The line is disputed already.",
    "not_disputed": "A credit answers a disputed line: dispute the line first.",
    "credit_exceeds_line": "The credit is more than the line billed less its earlier credits.",
    "month_not_ended": "The station's month has not ended: send `early: true` to issue the statement now.",
    "statement_issued": "The statement is issued or settled already: it is frozen.",
    "not_issued": "A draft statement is not paid: issue it first.",
    "statement_settled": "The statement is paid in full.",
    "overpaid": "The payment is more than is outstanding on the statement.",
    # lounge
    "already_checked_in": "The guest is already checked in for this flight.",
    "already_checked_out": "The visit is already checked out.",
    "already_voided": "The sale line is already voided.",
    "bill_closed": "The visit's bill is settled: no sale or void can be added to it.",
    "closed": "The lounge is closed at this time (the `detail` gives its opening hours).",
    "empty_requisition": "A requisition needs at least one line to be submitted.",
    "lounge_full": "The lounge has no room for this many more guests now.",
    "not_entitled": "No lounge visit is expected for this order or boarding pass here, or its carrier's contract does not cover its cabin.",
    "out_of_stock": "Not enough of the item (`sku`) is in stock for the quantity asked.",
    "unknown_flight": "The flight on the boarding pass is not one the lounge knows.",
    "visit_closed": "The visit is checked out: nothing more is sold on it.",
    # callcenter
    "agent_elsewhere": "The agent does not work at the ticket's station.",
    "callback_changed": "Another attempt was recorded on the callback meanwhile. Read it again and retry.",
    "callback_done": "The callback is finished: no more attempts are recorded on it.",
    "complaint_open": "A complaint ticket is resolved only once its complaint workflow is closed.",
    "csat_recorded": "The order's satisfaction score was recorded already.",
    "merge_into_itself": "A ticket cannot be merged into itself.",
    "merge_target_closed": "The ticket to merge into is closed or merged itself.",
    "not_a_complaint": "Only complaint tickets have a complaint workflow.",
    "own_proposal": "Nobody approves their own compensation proposal: another team lead or supervisor decides.",
    "survey_answered": "The order's survey was answered already.",
    "ticket_closed": "The ticket is closed or merged: it takes no more notes, calls, assignment or changes.",
    "use_merge": "A ticket is merged with `POST /v1/tickets/{ticket_id}/merge`, not by setting its status.",
}


def registry(raised: Iterable[Raised]) -> list[ProblemType]:
    """One entry per slug, by slug; a title given in the code wins over the one derived from the slug."""
    by_slug: dict[str, Raised] = {}
    for problem in sorted({*raised, *FRAMEWORK}):
        known = by_slug.get(problem.slug)
        if known is None or known.title == problem.slug.replace("_", " ").capitalize():
            by_slug[problem.slug] = problem
    return [
        ProblemType(type=f"/problems/{slug}", slug=slug, status=problem.status, title=problem.title, meaning=MEANINGS.get(slug, ""))
        for slug, problem in sorted(by_slug.items())
    ]
