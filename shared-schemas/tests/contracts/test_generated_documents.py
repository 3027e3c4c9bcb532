"""The committed JSON Schemas and AsyncAPI document are what the models generate, and complete."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared_schemas import messaging
from shared_schemas.events.asyncapi import DLQ_HEADERS, DLQ_OPTIONAL_HEADERS, asyncapi_document
from shared_schemas.events.catalogue import CONSUMER_GROUPS, TOPICS, Topic
from shared_schemas.events.generate import (
    ASYNCAPI_FILE,
    generated_files,
    main,
    render,
    schemas_dir,
)
from shared_schemas.events.registry import EVENT_TYPES, event_types_of

pytestmark = pytest.mark.contract

SHARED_SCHEMAS = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fresh() -> dict[str, str]:
    """One fresh generation for the whole module (it takes a moment)."""
    return generated_files()


@pytest.fixture(scope="module")
def document(fresh: dict[str, str]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(fresh[ASYNCAPI_FILE])
    return parsed


def _committed(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*.json"))
    }


def test_committed_schemas_match_a_fresh_generation(fresh: dict[str, str]) -> None:
    assert schemas_dir() == SHARED_SCHEMAS / "schemas"
    committed = _committed(schemas_dir())
    drifted = sorted(
        name for name in committed.keys() | fresh.keys() if committed.get(name) != fresh.get(name)
    )
    assert not drifted, (
        f"generated schemas drifted from the models: {drifted}; "
        "run `make schemas` and commit the result"
    )


def test_generation_is_deterministic(fresh: dict[str, str]) -> None:
    assert generated_files() == fresh
    assert render({"b": 1, "a": [2, 1]}) == '{\n  "a": [\n    2,\n    1\n  ],\n  "b": 1\n}\n'


def test_check_names_missing_changed_and_stale_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fresh: dict[str, str]
) -> None:
    assert main(["--check", "--output", str(tmp_path)]) == 1
    assert "json/crm.quote.accepted.v1.json" in capsys.readouterr().err

    assert main(["--output", str(tmp_path)]) == 0
    assert _committed(tmp_path) == fresh
    assert main(["--check", "--output", str(tmp_path)]) == 0
    capsys.readouterr()

    (tmp_path / "json" / "erp.order.created.v1.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "json" / "erp.order.split.v1.json").write_text("{}\n", encoding="utf-8")
    assert main(["--check", "--output", str(tmp_path)]) == 1
    report = capsys.readouterr().err
    assert "json/erp.order.created.v1.json" in report
    assert "json/erp.order.split.v1.json" in report
    assert "json/crm.quote.accepted.v1.json" not in report
    assert "make schemas" in report

    assert main(["--output", str(tmp_path)]) == 0
    assert not (tmp_path / "json" / "erp.order.split.v1.json").exists()
    assert main(["--check", "--output", str(tmp_path)]) == 0


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_each_type_has_a_json_schema_of_its_envelope(
    event_type: str, fresh: dict[str, str]
) -> None:
    model = EVENT_TYPES[event_type]
    schema = json.loads(fresh[f"json/{event_type}.json"])

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(event_type)
    assert schema["title"] == event_type
    assert schema["description"]
    properties = schema["properties"]
    assert properties["type"]["const"] == event_type
    assert properties["source"]["const"] in {"crm-service", "erp-service"}
    assert properties["data"] == {"$ref": f"#/$defs/{model.__name__}"}
    data = schema["$defs"][model.__name__]
    assert set(data["properties"]) == set(model.model_fields)
    assert "version" in data["required"]
    assert {"id", "source", "type", "subject", "time", "data", "actor"} <= set(schema["required"])


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_asyncapi_document_is_asyncapi_3_with_both_servers(document: dict[str, Any]) -> None:
    assert document == asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    assert {"title", "version", "description"} <= document["info"].keys()
    local = document["servers"]["local"]
    assert (local["host"], local["protocol"]) == ("127.0.0.1:9092", "kafka")
    production = document["servers"]["production"]
    assert production["protocol"] == "kafka"
    variable = re.fullmatch(r"\{(\w+)\}", production["host"])
    assert variable is not None
    assert variable[1] in production["variables"]


def test_every_reference_in_the_asyncapi_document_resolves(document: dict[str, Any]) -> None:
    refs = _refs(document)
    assert len(refs) > 100
    for ref in refs:
        _resolve(document, ref)


@pytest.mark.parametrize("topic", TOPICS, ids=lambda topic: topic.name)
def test_every_topic_has_a_channel_its_messages_and_a_send_operation(
    topic: Topic, document: dict[str, Any]
) -> None:
    channel = document["channels"][topic.name]
    assert channel["address"] == topic.name
    assert channel["bindings"]["kafka"]["partitions"] == topic.partitions
    assert sorted(channel["messages"]) == sorted(event_types_of(topic.name))
    for event_type, ref in channel["messages"].items():
        message = _resolve(document, ref["$ref"])
        model = EVENT_TYPES[event_type]
        assert message["name"] == event_type
        assert message["contentType"] == "application/cloudevents+json"
        assert model.subject_field in message["bindings"]["kafka"]["key"]["description"]
        payload = _resolve(document, message["payload"]["$ref"])
        assert payload["properties"]["type"]["const"] == event_type
        data = _resolve(document, payload["properties"]["data"]["$ref"])
        assert set(data["properties"]) == set(model.model_fields)

    sends = [
        operation
        for operation in document["operations"].values()
        if operation["channel"] == {"$ref": f"#/channels/{topic.name}"}
    ]
    assert len(sends) == 1
    assert sends[0]["action"] == "send"
    assert topic.owner in sends[0]["title"]
    assert len(sends[0]["messages"]) == len(event_types_of(topic.name))


def test_dead_letter_channels_document_the_consumers_headers(document: dict[str, Any]) -> None:
    [channel] = [c for c in document["channels"].values() if c["address"] == "dlq.{group}"]
    assert channel["parameters"]["group"]["enum"] == list(CONSUMER_GROUPS)
    [ref] = channel["messages"].values()
    headers = _resolve(document, ref["$ref"])["headers"]

    # The header names the messaging runtime really writes: ("dlq-...", value) pairs.
    runtime = _messaging_source()
    written = set(re.findall(r'\("(dlq-[a-z-]+)",', runtime))
    assert written == set(DLQ_HEADERS)
    assert set(headers["properties"]) == written
    assert set(headers["required"]) == written - DLQ_OPTIONAL_HEADERS
    reasons = headers["properties"]["dlq-reason"]["enum"]
    assert reasons == ["malformed", "invalid", "failed"]
    for reason in reasons:
        assert f'"{reason}"' in runtime


def _messaging_source() -> str:
    package = Path(inspect.getfile(messaging)).parent
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(package.glob("*.py")))
