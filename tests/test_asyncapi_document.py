"""Issue 13 item 4: the committed AsyncAPI document (shared/airside/asyncapi.json) as an airline integrator reads it.

Every message carries an example envelope that its own payload schema accepts (JSON Schema 2020-12, what the
pydantic schemas are, references resolved in the document itself), and the parts an outsider relies on are there:
the JetStream stream of each channel, NATS bindings, correlationId and a description of every operation.
The official parser's verdict (clients/asyncapi/validate.mjs) runs in `make lint`; here it is shown failing."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from airside.events import REGISTRY
from airside.messaging.envelope import parse_envelope
from airside.messaging.streams import stream_for
from airside_tools import asyncapi

ROOT = Path(__file__).resolve().parents[1]
PARSER = ROOT / "clients" / "asyncapi"
Json = dict[str, Any]


def document() -> Json:
    return json.loads(asyncapi.DOCUMENT_PATH.read_text())


def validator(spec: Json, at: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:asyncapi", Resource(contents=spec, specification=DRAFT202012))
    # "#/components/..." inside the document resolves against the document, its base.
    return Draft202012Validator({"$ref": f"urn:asyncapi#{at}"}, registry=registry, format_checker=FormatChecker())


def refusals(spec: Json, at: str, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator(spec, at).iter_errors(instance)]


MESSAGES = sorted(document()["components"]["messages"])


@pytest.mark.parametrize("name", MESSAGES)
def test_every_message_has_an_example_its_schemas_accept(name):
    spec = document()
    message = spec["components"]["messages"][name]
    [example] = message["examples"]
    assert refusals(spec, f"/components/messages/{name}/payload", example["payload"]) == []
    assert refusals(spec, f"/components/messages/{name}/headers", example["headers"]) == []
    assert example["headers"]["Nats-Msg-Id"] == example["payload"]["id"]
    # What a consumer does with the bytes: the envelope and the payload model take the example as it is.
    event = parse_envelope(json.dumps(example["payload"]).encode())
    REGISTRY[message["name"]].parse(event)


def test_an_example_the_payload_schema_refuses_is_caught():
    spec = document()
    example = copy.deepcopy(spec["components"]["messages"]["BookingOrderCompleted"]["examples"][0]["payload"])
    example["data"]["order"]["version"] = "six"
    del example["specversion"]
    found = refusals(spec, "/components/messages/BookingOrderCompleted/payload", example)
    assert any("data/order/version" in refusal for refusal in found), found
    assert any("'specversion' is a required property" in refusal for refusal in found), found


def test_every_channel_names_its_stream_and_every_operation_is_described():
    spec = document()
    for channel in spec["channels"].values():
        assert channel["x-airside-stream"] == stream_for(channel["address"]).name
        assert channel["x-airside-stream"] in channel["description"]
        assert channel["bindings"] == {"nats": {}}  # the NATS channel binding has no fields (bindings 0.1.0)
    for operation_id, operation in spec["operations"].items():
        assert operation["description"].strip(), operation_id
        assert operation["bindings"]["nats"]["bindingVersion"] == "0.1.0", operation_id
    for message in spec["components"]["messages"].values():
        location = message["correlationId"]["location"]
        assert location == "$message.payload#/correlationid"
        assert "correlationid" in spec["components"]["schemas"]["CloudEvent"]["properties"]
        assert message["bindings"] == {"nats": {}}
    assert "specversion" in spec["components"]["schemas"]["CloudEvent"]["required"]


def parse(path: Path) -> subprocess.CompletedProcess[str]:
    if not (PARSER / "node_modules" / "@asyncapi" / "parser").is_dir() or shutil.which("node") is None:
        pytest.skip("the pinned parser is installed by `make lint` (npm ci in clients/asyncapi)")
    return subprocess.run(["node", str(PARSER / "validate.mjs"), str(path)], capture_output=True, text=True, timeout=120, check=False)


def test_the_official_parser_accepts_the_committed_document():
    done = parse(asyncapi.DOCUMENT_PATH)
    assert done.returncode == 0, done.stderr
    assert "0 errors, 0 warnings" in done.stdout


def test_the_official_parser_fails_on_a_broken_binding(tmp_path):
    spec = document()
    spec["operations"]["airside_receives_airside_flight_status"]["bindings"]["nats"]["bindingVersion"] = "9.9.9"
    broken = tmp_path / "asyncapi.json"
    broken.write_text(json.dumps(spec))
    done = parse(broken)
    assert done.returncode == 1
    assert "bindingVersion" in done.stderr
