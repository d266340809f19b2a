"""YAML fixture files: checked when loaded, then applied through the store's public methods.

A fixture names accounts (users with keys and roles), sessions (with messages, checked
against the contract's own ``AddMessageRequest`` schema) and their counters. A bad file
stops start-up with the file, the record and the reason.
"""

from __future__ import annotations

import dataclasses
import typing as t
from pathlib import Path

import jsonschema
import referencing
import referencing.jsonschema
import yaml

from mockviking.contract.spec import SPEC_URI, Contract, DataLoader
from mockviking.contract.translation import translate
from mockviking.domain.errors import DomainError
from mockviking.domain.messages import drafts_from_request
from mockviking.domain.models import LLM_USAGE_KEYS
from mockviking.domain.owners import Owner
from mockviking.domain.rules import identifier_problem, unstorable_text
from mockviking.domain.store import SessionStore
from mockviking.domain.tasks import CommitScript, TaskPlan

_SCHEMA_URI = "urn:mockviking:fixtures"
_INT = {"type": "integer", "minimum": 0}
_STRING = {"type": "string"}

#: The fixture file format. Messages reuse the contract's request schema.
FIXTURE_SCHEMA: dict[str, t.Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "root_key": {"type": ["string", "null"], "minLength": 1},
        "tasks": {"$ref": "#/$defs/task_plan"},
        "accounts": {"type": "array", "items": {"$ref": "#/$defs/account"}},
        "sessions": {"type": "array", "items": {"$ref": "#/$defs/session"}},
    },
    "$defs": {
        "account": {
            "type": "object",
            "additionalProperties": False,
            "required": ["account_id"],
            "properties": {
                "account_id": _STRING,
                "users": {"type": "array", "items": {"$ref": "#/$defs/user"}},
            },
        },
        "user": {
            "type": "object",
            "additionalProperties": False,
            "required": ["user_id"],
            "properties": {
                "user_id": _STRING,
                "role": {"enum": ["admin", "user"]},
                "key": {"type": "string", "minLength": 8},
            },
        },
        "session": {
            "type": "object",
            "additionalProperties": False,
            "required": ["session_id"],
            "properties": {
                "account_id": _STRING,
                "user_id": _STRING,
                "session_id": {"type": "string", "minLength": 1},
                "messages": {
                    "type": "array",
                    "items": {"$ref": f"{SPEC_URI}#/components/schemas/AddMessageRequest"},
                },
                "counters": {"$ref": "#/$defs/counters"},
                "next_commit": {"$ref": "#/$defs/commit_script"},
            },
        },
        "task_plan": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mode": {"enum": ["immediate", "polls", "delay", "release"]},
                "polls": {"type": "integer", "minimum": 1},
                "delay_seconds": {"type": "number", "minimum": 0},
            },
        },
        "commit_script": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "fail": {"type": "string", "minLength": 1},
                "memories": {"type": "object", "additionalProperties": _INT},
                "llm_usage": {"$ref": "#/$defs/llm_usage"},
            },
        },
        "llm_usage": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
key: _INT for key in LLM_USAGE_KEYS},
        },
        "counters": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "created_at": _STRING,
                "updated_at": _STRING,
                "commit_count": _INT,
                "last_commit_at": _STRING,
                "total_message_count": _INT,
                "pending_tokens": _INT,
                "keep_recent_count": _INT,
                "embedding_tokens": _INT,
                "memories_extracted": {"type": "object", "additionalProperties": _INT},
                "llm_token_usage": {"$ref": "#/$defs/llm_usage"},
            },
        },
    },
}


class FixtureError(Exception):
    """A fixture file cannot be used; the message names the file, the record and why."""


@dataclasses.dataclass(frozen=True)
class Fixture:
    """One parsed and checked fixture file."""

    path: str
    data: t.Mapping[str, t.Any]


def load_fixture(path: str | Path, contract: Contract) -> Fixture:
    """Read and check one fixture file."""
    source = str(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{source}: cannot read the fixture file: {exc}") from exc
    try:
        data = yaml.load(text, Loader=DataLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise FixtureError(f"{source}: not valid YAML: {exc}") from exc
    return check_fixture(data if data is not None else {}, contract, source)


def check_fixture(data: t.Any, contract: Contract, source: str = "<fixture>") -> Fixture:
    """Check parsed fixture data against the fixture format."""
    registry = contract.registry.with_resource(
        _SCHEMA_URI, referencing.jsonschema.DRAFT202012.create_resource(FIXTURE_SCHEMA)
    )
    validator = jsonschema.Draft202012Validator(
        {"$ref": _SCHEMA_URI}, registry=registry
    )
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        detail = translate([error], ())
        if not detail:
            continue  # a rule the handlers check: applying the record reports it in their words
        path = list(error.absolute_path)
        where = ".".join(detail[0].loc) or "(top level)"
        raise FixtureError(f"{source}: {_record_name(data, path)}: {where}: {detail[0].message}")
    problem = unstorable_text(data)
    if problem is not None:
        raise FixtureError(f"{source}: {problem}")
    return Fixture(source, data)


def _record_name(data: t.Any, path: list[t.Any]) -> str:
    if len(path) >= 2 and path[0] in ("accounts", "sessions") and isinstance(path[1], int):
        item = data[path[0]][path[1]]
        if isinstance(item, dict):
            label = item.get("session_id") or item.get("account_id")
            if label:
                return f"{path[0]}[{path[1]}] ({label!r})"
        return f"{path[0]}[{path[1]}]"
    return "file"


def apply_fixture(store: SessionStore, fixture: Fixture) -> None:
    """Add a checked fixture's records to the store, as the API would have created them."""
    data = fixture.data
    if data.get("root_key"):
        store.set_root_key(data["root_key"])
    if "tasks" in data:
        store.set_task_plan(TaskPlan(**data["tasks"]))
    for index, account in enumerate(data.get("accounts", [])):
        name = f"{fixture.path}: accounts[{index}] ({account['account_id']!r})"
        _apply_account(store, account, name)
    for index, session in enumerate(data.get("sessions", [])):
        name = f"{fixture.path}: sessions[{index}] ({session['session_id']!r})"
        _apply_session(store, session, name)


def _apply_account(store: SessionStore, account: t.Mapping[str, t.Any], name: str) -> None:
    account_id = account["account_id"]
    problem = identifier_problem(account_id, "account_id")
    if problem:
        raise FixtureError(f"{name}: {problem}")
    for user in account.get("users", []):
        problem = identifier_problem(user["user_id"], "user_id")
        if problem:
            raise FixtureError(f"{name}: {problem}")
        first = not store.users(account_id)
        if first and user.get("role", "admin") != "admin":
            raise FixtureError(f"{name}: the first user of an account is its admin")
        try:
            if first and not store.account_exists(account_id):
                store.create_account(account_id, user["user_id"], key=user.get("key"))
            elif first:
                store.create_user(account_id, user["user_id"], "admin", key=user.get("key"))
            else:
                store.create_user(account_id, user["user_id"], user.get("role", "user"), key=user.get("key"))
        except DomainError as exc:
            raise FixtureError(f"{name}: user {user['user_id']!r}: {exc.message}") from exc
        except ValueError as exc:
            raise FixtureError(f"{name}: user {user['user_id']!r}: {exc}") from exc


def _apply_session(store: SessionStore, record: t.Mapping[str, t.Any], name: str) -> None:
    owner = Owner(record.get("account_id", "default"), record.get("user_id", "default"))
    try:
        store.create_session(owner, record["session_id"])
        for index, message in enumerate(record.get("messages", [])):
            try:
                store.add_messages(owner, record["session_id"], drafts_from_request(message))
            except DomainError as exc:
                raise FixtureError(f"{name}: messages.{index}: {exc.message}") from exc
        counters = record.get("counters")
        if counters:
            store.set_counters(owner, record["session_id"], **counters)
        if "next_commit" in record:
            store.script_next_commit(owner, record["session_id"], CommitScript(**record["next_commit"]))
    except DomainError as exc:
        raise FixtureError(f"{name}: {exc.message}") from exc


def load_into(store: SessionStore, paths: t.Iterable[str | Path], contract: Contract) -> None:
    """Load, check and apply fixture files in order, then make them the reset baseline."""
    for path in paths:
        apply_fixture(store, load_fixture(path, contract))
    store.mark_baseline()

