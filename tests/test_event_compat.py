"""Issue 13 item 3: `airside-dev events-compat` fails on a breaking change to an existing event version (docs/events.md)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airside_tools import asyncapi
from airside_tools.event_compat import breaking_changes

Json = dict[str, Any]
DEV = str(Path(sys.executable).with_name("airside-dev"))


def committed() -> Json:
    return json.loads(asyncapi.DOCUMENT_PATH.read_text())


def member(document: Json) -> Json:
    return document["components"]["schemas"]["MemberSnapshot"]


def remove_field(document: Json) -> None:
    del member(document)["properties"]["phone"]
    member(document)["required"].remove("phone")


def rename_field(document: Json) -> None:
    member(document)["properties"]["telephone"] = member(document)["properties"].pop("phone")
    member(document)["required"] = [("telephone" if name == "phone" else name) for name in member(document)["required"]]


def change_type(document: Json) -> None:
    member(document)["properties"]["version"] = {"type": "string"}


def add_required_field(document: Json) -> None:
    member(document)["properties"]["nickname"] = {"type": "string"}
    member(document)["required"].append("nickname")


def remove_enum_value(document: Json) -> None:
    document["components"]["schemas"]["Tier"]["enum"].pop()


def add_optional_field(document: Json) -> None:
    member(document)["properties"]["nickname"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}


def add_enum_value(document: Json) -> None:
    document["components"]["schemas"]["Tier"]["enum"].append("diamond")


def add_event_and_version(document: Json) -> None:
    messages = document["components"]["messages"]
    v2 = copy.deepcopy(messages["BookingMemberRegistered"])
    v2["payload"]["allOf"][1]["properties"]["dataschema"] = {
        "const": "https://airside.example/schemas/events/booking.member.registered/v2.json"
    }
    v2["payload"]["allOf"][1]["properties"]["data"] = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    messages["BookingMemberRegisteredV2"] = v2
    new = copy.deepcopy(messages["BookingMemberRegistered"])
    new["payload"]["allOf"][1]["properties"]["type"] = {"const": "airside.booking.member.greeted"}
    messages["BookingMemberGreeted"] = new


BREAKING: list[tuple[Callable[[Json], None], str]] = [
    (remove_field, "data.member.phone: field removed or renamed"),
    (rename_field, "data.member.phone: field removed or renamed"),
    (change_type, "data.member.version: type changed from integer to string"),
    (add_required_field, "data.member.nickname: field newly required"),
    (remove_enum_value, "data.member.tier: enum value"),
]


@pytest.mark.parametrize(("breakage", "expected"), BREAKING, ids=[breakage.__name__ for breakage, _ in BREAKING])
def test_a_breaking_change_is_reported_naming_the_event_and_field(breakage, expected):
    broken = committed()
    breakage(broken)
    problems = breaking_changes(committed(), broken)
    assert any(problem.startswith("airside.booking.member.registered v1: " + expected) for problem in problems), problems


@pytest.mark.parametrize("change", [add_optional_field, add_enum_value, add_event_and_version])
def test_a_compatible_change_is_not_reported(change):
    changed = committed()
    change(changed)
    assert breaking_changes(committed(), changed) == []


def test_the_committed_document_is_compatible_with_itself():
    assert breaking_changes(committed(), committed()) == []


def test_the_command_fails_on_a_broken_published_document(tmp_path):
    # The published document had a field the models no longer have: the models broke it.
    published = committed()
    member(published)["properties"]["loyalty_pin"] = {"type": "string"}
    (tmp_path / "asyncapi.json").write_text(json.dumps(published))
    result = subprocess.run(
        [DEV, "events-compat", "--against", str(tmp_path / "asyncapi.json")], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "loyalty_pin: field removed or renamed" in result.stderr
    ok = subprocess.run(
        [DEV, "events-compat", "--against", str(asyncapi.DOCUMENT_PATH)], capture_output=True, text=True, timeout=120, check=False
    )
    assert ok.returncode == 0, ok.stderr
