"""The ledger's OpenAPI document states every constraint the API enforces, so that a client generated from it
(or schemathesis) sends what the API accepts: a pattern on every text parameter, a range on every number,
the batch's operations and their limit."""
import re

import pytest

from beanpay_ledger.api.schemas import DAY_PATTERN, TIME_PATTERN
from beanpay_ledger.validation import IDENTIFIER, TRADE_NUMBER


@pytest.fixture(scope="module")
def document(ledger_app):
    return ledger_app.test_client().get("/openapi.json").get_json()


def _values(node, key: str):
    """Every value of ``key`` anywhere in ``node`` (nested mappings and lists)."""
    if isinstance(node, dict):
        if key in node:
            yield node[key]
        for value in node.values():
            yield from _values(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from _values(value, key)


def _properties(document, schema: dict) -> dict:
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema.get("properties", {})


def test_every_parameter_states_its_constraints(document):
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            parameters = {p["name"]: p["schema"] for p in operation.get("parameters", [])}
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            parameters.update(_properties(document, body) if body else {})
            for name, schema in parameters.items():
                checked += 1
                if schema.get("type") == "string":
                    assert "pattern" in schema or "enum" in schema, (path, method, name)
                elif schema.get("type") == "integer":
                    assert {"minimum", "maximum"} <= set(schema), (path, method, name)
                else:
                    assert schema.get("type") == "array" and "maxItems" in schema and schema.get("minItems") == 1, (
                        path, method, name)
    assert checked > 100


@pytest.mark.parametrize("pattern, good, bad", [
    (IDENTIFIER.pattern, ["USR_1", "中文", "a:b"], ["", "a b", "a\u3000b", "a\x85b", "x" * 65]),
    (TRADE_NUMBER.pattern, ["REQ_1:USR_1", "t" * 128], ["t" * 129, "a\tb"]),
    (f"({DAY_PATTERN})", ["20991231", "2099-12-31"], ["20991301", "2099123", "0999-01-01", "２０９９１２３１"]),
    (f"({TIME_PATTERN})", ["20240102", "20240102030405", "2024-01-02T03:04:05", "2024-01-02 03:04:05"],
     ["20240102240000", "2024-01-02T03:04", "x"]),
])
def test_the_documented_patterns_mean_what_the_api_accepts(pattern, good, bad):
    """The document's patterns, read as ECMA-262 reads them (no Unicode \\s or \\d), accept what the API takes."""
    documented = re.compile(pattern.removeprefix("\\A").removesuffix("\\Z"), re.ASCII)
    assert all(documented.fullmatch(value) for value in good), good
    assert not any(documented.fullmatch(value) for value in bad), bad


def test_the_batch_documents_its_operations(document):
    operations = _properties(document, document["paths"]["/account/balance/batch"]["post"]["requestBody"]["content"]
                             ["application/json"]["schema"])["operations"]
    assert operations["maxItems"] == 1000
    item = _properties(document, operations["items"])
    assert item["op"]["enum"] == ["add", "deduct", "refund"]
    assert item["trade_no"]["pattern"].endswith("{1,128}$") and item["amount"]["minimum"] == 1


def test_every_reference_resolves(document):
    found = set(_values(document, "$ref"))
    assert "#/components/responses/DEFAULT_ERROR" in found
    for reference in found:
        node = document
        for part in reference.removeprefix("#/").split("/"):
            node = node[part]


def test_schemathesis_can_generate_from_every_pattern(document):
    """A pattern a generator cannot use is dropped, and then the generated values get refused (schemathesis
    reports that as a schema validation mismatch)."""
    patterns = pytest.importorskip("schemathesis.core.jsonschema.patterns")
    documented = {pattern for pattern in _values(document, "pattern") if isinstance(pattern, str)}
    assert len(documented) >= 5
    assert [pattern for pattern in documented if patterns.enforced_pattern(pattern) is None] == []
