"""A broken contract stops start-up with a message that says where and why."""

from __future__ import annotations

import copy
import typing as t
from pathlib import Path

import pytest
import yaml

from mockviking import Config, create_app
from mockviking.contract.spec import SpecError, build_contract, default_spec_path, load_contract
from mockviking.web.app import bind_operations, flask_rule
from mockviking.web.handlers import HANDLERS
from tests._support import ALICE_KEY


@pytest.fixture(scope="module")
def document() -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], yaml.safe_load(default_spec_path().read_text()))


def test_bundled_contract_loads_and_every_operation_has_a_handler() -> None:
    contract = load_contract()
    ids = {op.operation_id for op in contract.operations}
    assert {"get_session", "add_message", "batch_add_messages", "create_session", "list_sessions",
            "delete_session", "health", "create_account", "create_user"} <= ids
    # An operation without a handler must document the 501 it then answers.
    for op in contract.operations:
        assert op.operation_id in HANDLERS or "501" in op.statuses, op.operation_id
    assert flask_rule(contract.operation("get_session").path) == "/api/v1/sessions/<session_id>"


def test_seed_examples_are_valid_against_their_schemas() -> None:
    contract = load_contract()
    checked = 0
    for path, item in contract.document["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            escaped = path.replace("~", "~0").replace("/", "~1")
            for status, response in op["responses"].items():
                content = response.get("content", {}).get("application/json", {})
                for name, example in content.get("examples", {}).items():
                    pointer = f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"
                    errors = list(contract.validator(pointer).iter_errors(example["value"]))
                    assert not errors, f"{method} {path} {status} example {name}: {errors[0].message}"
                    checked += 1
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, example in body.get("examples", {}).items():
                pointer = f"/paths/{escaped}/{method}/requestBody/content/application~1json/schema"
                errors = list(contract.validator(pointer).iter_errors(example["value"]))
                assert not errors, f"{method} {path} request example {name}: {errors[0].message}"
                checked += 1
    assert checked >= 8


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "openapi.yaml"
    broken.write_text("openapi: 3.1.0\npaths: {\n")
    with pytest.raises(SpecError, match=r"openapi\.yaml: not valid YAML"):
        load_contract(broken)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read the contract"):
        load_contract(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(openapi="3.0.3"), "'openapi' must be a 3.1.x version"),
        (lambda d: d.update(paths={}), "'paths' must be a non-empty mapping"),
        (lambda d: d["paths"]["/health"]["get"].pop("operationId"), "needs an operationId"),
        (lambda d: d["paths"]["/health"]["get"].update({"x-openviking-access": "everyone"}),
         "x-openviking-access must be one of"),
        (lambda d: d["paths"]["/health"]["get"].update(operationId="get_session"),
         "operationId 'get_session' is already used"),
        (lambda d: d["components"]["schemas"]["Health"].update(type="thing"),
         "components.schemas.Health at .*invalid schema"),
        (lambda d: d["components"]["schemas"]["SessionDetail"]["properties"].update(
            user={"$ref": "#/components/schemas/Nobody"}), r"\$ref '#/components/schemas/Nobody' points at nothing"),
        (lambda d: d["paths"]["/api/v1/sessions/{session_id}"].update(parameters=[]),
         "path parameters .* differ"),
    ],
)
def test_structural_problems(document: dict[str, t.Any], mutate: t.Callable[[dict[str, t.Any]], None],
                             message: str) -> None:
    broken = copy.deepcopy(document)
    mutate(broken)
    with pytest.raises(SpecError, match=message):
        build_contract(broken, "test.yaml")


def test_handler_without_operation_is_drift(document: dict[str, t.Any]) -> None:
    broken = copy.deepcopy(document)
    del broken["paths"]["/health"]
    with pytest.raises(SpecError, match="handlers exist for operations the contract lacks: health"):
        bind_operations(build_contract(broken, "test.yaml"), HANDLERS)


def test_operation_without_handler_answers_501(document: dict[str, t.Any], tmp_path: Path) -> None:
    extended = copy.deepcopy(document)
    extended["paths"]["/api/v1/sessions/{session_id}/used"] = {
        "post": {
            "operationId": "record_used",
            "x-openviking-access": "tenant",
            "parameters": [{"$ref": "#/components/parameters/SessionIdPath"}],
            "responses": {"501": {"description": "not served"}},
        }
    }
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(extended))
    app = create_app(Config(spec_path=str(spec)))
    response = app.test_client().post(
        "/api/v1/sessions/s1/used", headers={"X-API-Key": ALICE_KEY}
    )
    assert response.status_code == 501
    body = response.get_json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "UNIMPLEMENTED"
    assert "record_used" in body["error"]["message"]


def test_broken_spec_stops_create_app(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.1.0\n")
    with pytest.raises(SpecError):
        create_app(Config(spec_path=str(spec)))


@pytest.mark.parametrize("name", ["openapi.yaml", "control.yaml"])
def test_bundled_contracts_pass_the_full_check(name: str) -> None:
    # Start-up skips the meta-schema check for the bundled contracts; this test makes it.
    document = yaml.safe_load(default_spec_path(name).read_text())
    contract = build_contract(document, name, check_schemas=True)
    for op in contract.operations:
        if op.body_pointer:
            contract.validator(op.body_pointer)  # every body schema inlines and compiles


def test_parsed_contracts_are_cached_by_content(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(default_spec_path().read_text())
    first = load_contract(spec)
    second = load_contract(spec)  # from the JSON copy this time
    assert first.document == second.document
    spec.write_text(default_spec_path().read_text().replace("title: OpenViking", "title: Changed OpenViking"))
    assert load_contract(spec).document["info"]["title"].startswith("Changed")  # a new text, a new parse


def test_every_control_path_lives_under_the_control_prefix() -> None:
    """The journal, violations and faults tell mockviking's own requests by this one prefix."""
    from mockviking.contract.spec import bundled_contract
    from mockviking.harness.config import CONTROL_PREFIX

    paths = {op.path for op in bundled_contract("control.yaml").operations}
    assert paths
    assert all(path.startswith(CONTROL_PREFIX + "/") for path in paths), paths
    assert not any(op.path.startswith(CONTROL_PREFIX) for op in load_contract().operations)
