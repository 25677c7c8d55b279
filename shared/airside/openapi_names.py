"""The names in a service's OpenAPI document a generated client turns into code: operationIds,
schema names, tags and servers (docs/http.md, "The OpenAPI document")."""

from __future__ import annotations

import re
from importlib import import_module
from typing import Any

TAG_DESCRIPTIONS = {
    "agents": "Call-centre agents and the stations they work at.",
    "callbacks": "Calls back to members: the queue, attempts and outcomes; the member's own survey.",
    "carriers": "Airlines served under contract: carriers, their contracts per station and the contracts' terms (docs/carriers.md).",
    "complaints": "A complaint ticket's workflow: investigation, a proposed resolution, approval, follow-up.",
    "concierges": "Concierges, their shifts and their day's schedule.",
    "flights": "Flights as this service knows them, and their status.",
    "lounges": "Lounges: opening hours, capacity, and the board of who is in.",
    "members": "Members (frequent flyers) and their tier.",
    "menu": "What a lounge sells.",
    "ops": "Operations: parked events, republishing and re-announcing (admin).",
    "orders": "Concierge and lounge-access orders: booking, changes and the status moves.",
    "platform": "Health, readiness, metrics and the AsyncAPI document (no token).",
    "problems": "The problem types this service answers: each problem body's `type` resolves here (no token).",
    "products": "The services a member can book, with prices and lead times.",
    "reports": "Daily and period reports, as JSON or CSV (`Accept: text/csv`).",
    "requisitions": "Stock requisitions: drafting, submitting, approving and rejecting.",
    "sales": "Sales on a visit's bill, and voiding them.",
    "settlement": "Carriers' monthly statements per station: lines, refusals, disputes, credits, issue and payments.",
    "sla": "Service-level policies and business hours per station.",
    "stations": "Airports where the services run.",
    "stock": "Stock per lounge: levels, counts and receiving goods.",
    "tickets": "Member service tickets: notes, calls, status, assignment and merging.",
    "visits": "Lounge visits: expected guests, check-in, the bill and check-out.",
    "webhooks": "Partners' signed webhooks for this service's events: subscriptions, secrets and the delivery log (admin).",
}
GATEWAY = "http://localhost:8080"


def operation_id(tags: tuple[str, ...], function_name: str) -> str:
    """`<tag>_<what the view does>`: `create_order` under orders is `orders_create`, `check_in` `visits_check_in`."""
    tag = (tags or ("platform",))[0].replace("-", "_")
    named = {tag, tag.removesuffix("s"), tag.removesuffix("es")}
    words = [word for word in function_name.split("_") if word not in named]
    return "_".join([tag, *(words or [function_name])])


def tag_list(tags: list[str]) -> list[dict[str, str]]:
    return [{"name": tag, "description": TAG_DESCRIPTIONS[tag]} for tag in tags]


def servers(service: str) -> list[dict[str, str]]:
    """The embedded run (`make run`, each service on its own port) and the gateway (docker compose)."""
    port = import_module(f"{service}.config").Settings.model_fields["port"].default
    return [
        {"url": f"http://localhost:{port}", "description": "The embedded run (`make run`)"},
        {"url": f"{GATEWAY}/{service}", "description": "Behind the gateway (`docker compose up`)"},
    ]


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", text) if part)


def _clean(name: str, taken: set[str]) -> str:
    """`Page_OrderPublic_` is `OrderPublicPage`; `lounge__visits__models__Entitlement` is `Entitlement`,
    or `VisitsEntitlement` when another schema is already called so; `Order-Input` is `OrderInput`."""
    if generic := re.fullmatch(r"([A-Za-z]+)_(.+)_", name):
        return _clean(generic[2], taken) + generic[1]
    if "__" in name:
        *modules, model = name.split("__")
        plain = _clean(model, taken)
        return plain if plain not in taken else _camel(modules[-2] if len(modules) > 1 else modules[-1]) + plain
    return _camel(name) if not re.fullmatch(r"[A-Za-z0-9]+", name) else name


def _rewrite_refs(node: Any, renamed: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            node["$ref"] = "#/components/schemas/" + renamed.get(ref.rsplit("/", 1)[1], ref.rsplit("/", 1)[1])
        for value in node.values():
            _rewrite_refs(value, renamed)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value, renamed)


def clean_schema_names(document: dict[str, Any]) -> dict[str, Any]:
    """Rename the document's schemas in place to names a generated client can use as class names."""
    schemas = document.get("components", {}).get("schemas", {})
    plain = sorted(name for name in schemas if re.fullmatch(r"[A-Za-z0-9]+", name))
    taken, renamed = set(plain), {}
    for name in sorted(set(schemas) - set(plain)):
        new = _clean(name, taken)
        assert new not in taken, f"two schemas would be called {new}"
        taken.add(new)
        renamed[name] = new
    for old, new in renamed.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    _rewrite_refs(document, renamed)
    return document
