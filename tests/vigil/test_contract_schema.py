"""The published JSON Schemas and the decoder agree, and the examples in
docs/contract.md are valid against both."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from vigil.contract import ContractError, Reading, decode_readings, decode_status, encode_readings
from vigil.kinds import METRICS

DOCS = Path(__file__).parents[2] / "docs" / "contract.md"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files("vigil.schemas").joinpath(name).read_text())
    return loaded


def doc_examples(marker: str) -> list[Any]:
    """JSON code blocks in docs/contract.md preceded by a line `<!-- marker -->`."""
    text = DOCS.read_text()
    return [json.loads(m) for m in re.findall(rf"<!-- {marker} -->\s*```json\n(.*?)```", text, re.S)]


def test_schema_metric_list_matches_the_sensor_kinds() -> None:
    enum = set(schema("readings.schema.json")["$defs"]["reading"]["properties"]["metric"]["enum"])
    assert enum == {m for metrics in METRICS.values() for m in metrics}


def test_documented_readings_examples_are_valid() -> None:
    examples = doc_examples("readings-example")
    assert len(examples) >= 2
    for example in examples:
        jsonschema.validate(example, schema("readings.schema.json"))
        msg = decode_readings(json.dumps(example))
        assert msg.rejected == [] and len(msg.readings) == len(example["readings"])


def test_documented_status_examples_are_valid() -> None:
    examples = doc_examples("status-example")
    assert len(examples) >= 2
    for example in examples:
        jsonschema.validate(example, schema("status.schema.json"))
        decode_status(json.dumps(example))


def test_what_the_gateway_encodes_is_valid_against_the_schema() -> None:
    body = json.loads(encode_readings("gw-a", 1, 1_795_392_000 * 10**9, [Reading("s-1", "temperature", 4.5, 1_795_392_000 * 10**9, "degF")]))
    jsonschema.validate(body, schema("readings.schema.json"))


@pytest.mark.parametrize(
    "bad",
    [
        {"gateway": "gw-a", "seq": 1, "sent_at": "2026-11-23T08:00:00", "readings": []},  # no offset
        {"gateway": "gw-a", "seq": -1, "sent_at": 1795392000000, "readings": []},
        {"gateway": "gw-a", "seq": 1, "sent_at": 1795392000000},
        {"gateway": "gw-a", "seq": 1, "sent_at": 1795392000000, "readings": [{"sensor": "s", "metric": "temperature", "value": "4", "ts": 1795392000000}]},
    ],
)
def test_schema_and_decoder_both_refuse(bad: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema("readings.schema.json"))
    try:
        msg = decode_readings(json.dumps(bad))
    except ContractError:
        return
    assert msg.rejected, "the decoder accepted what the schema refuses"
