"""Load ``spec/openapi.yaml`` and index its operations: the contract that drives the app.

Loading checks the document hard (YAML, OpenAPI version, operation ids, every schema, every
``$ref``), so a broken contract stops start-up with a message naming the place, instead of
surfacing as odd behaviour at request time.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.resources
import json
import math
import os
import re
import tempfile
import typing as t
from pathlib import Path

import jsonschema
import referencing
import referencing.jsonschema
import yaml

#: The URI the contract is registered under, so ``$ref: "#/..."`` resolves everywhere.
SPEC_URI = "urn:mockviking:openapi"

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ACCESS_LEVELS = ("public", "tenant", "any", "admin", "control")
_PARAM_LOCATIONS = ("path", "query", "header")

#: The C loader parses YAML several times faster; fall back where PyYAML was built without it.
YamlLoader: t.Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DataLoader(YamlLoader):  # type: ignore[misc]
    """The YAML loader for data that may be answered with (request bodies, fixtures): it
    refuses ``.nan`` and ``.inf``, which no JSON answer can carry."""


def _finite_float(loader: t.Any, node: t.Any) -> float:
    value = float(yaml.SafeLoader.construct_yaml_float(loader, node))
    if not math.isfinite(value):
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a number JSON can carry (no NaN or infinity)", node.start_mark
        )
    return value


DataLoader.add_constructor("tag:yaml.org,2002:float", _finite_float)


class SpecError(Exception):
    """The contract cannot be used: the message says where and why."""


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A path, query or header parameter of an operation."""

    name: str
    location: str
    required: bool
    schema: t.Mapping[str, t.Any]
    pointer: str


@dataclasses.dataclass(frozen=True)
class Operation:
    """One method on one path, with what validation and dispatch need to know."""

    operation_id: str
    method: str
    path: str
    access: str
    parameters: tuple[Parameter, ...]
    body_pointer: str | None
    body_required: bool
    compact_envelope: bool
    statuses: frozenset[str]
    roles: tuple[str, ...] = ()
    telemetry_operation: str | None = None
    #: The body may also be sent as YAML (the control API's fixture upload).
    yaml_body: bool = False


@dataclasses.dataclass(frozen=True)
class Contract:
    """The parsed contract, its operations, and a registry that resolves its refs."""

    document: t.Mapping[str, t.Any]
    operations: tuple[Operation, ...]
    registry: referencing.Registry[t.Any]
    source: str
    _validators: dict[str, jsonschema.protocols.Validator] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    def operation(self, operation_id: str) -> Operation:
        """The operation with this id (``KeyError`` if the contract has none)."""
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def validator(self, pointer: str) -> jsonschema.protocols.Validator:
        """A validator for the schema at ``pointer`` (built once).

        Its local ``$ref`` s are inlined first: resolving them on every request would cost
        a fifth of the request's time. A recursive schema keeps its refs, resolved through
        the registry.
        """
        validator = self._validators.get(pointer)
        if validator is None:
            try:
                schema = _inline(self.document, self.schema_at(pointer), ())
                validator = jsonschema.Draft202012Validator(schema)
            except _Recursive:
                validator = jsonschema.Draft202012Validator(
                    {"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry
                )
            self._validators[pointer] = validator
        return validator

    def schema_at(self, pointer: str) -> t.Any:
        """The node at a JSON pointer of the document."""
        return _walk(self.document, pointer, self.source)


#: Keywords that only annotate: a ``$ref`` beside them can be replaced by its target.
#: Keywords that only annotate a schema: they never make a value valid or invalid.
ANNOTATIONS = frozenset({
    "description", "title", "default", "examples", "example", "deprecated", "format",
    "$comment", "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
})


class _Recursive(Exception):
    """A schema refers to itself: it cannot be inlined."""


def _inline(document: t.Mapping[str, t.Any], node: t.Any, trail: tuple[str, ...]) -> t.Any:
    """A copy of ``node`` with every local ``$ref`` replaced by what it points at."""
    if isinstance(node, list):
        return [_inline(document, item, trail) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if ref in trail:
            raise _Recursive(ref)
        target = _inline(document, _walk(document, ref[1:], "<contract>"), (*trail, ref))
        siblings = {k: _inline(document, v, trail) for k, v in node.items() if k != "$ref"}
        if set(siblings) <= ANNOTATIONS:
            return target
        return {"allOf": [target], **siblings}
    return {key: _inline(document, value, trail) for key, value in node.items()}


def default_spec_path(name: str = "openapi.yaml") -> Path:
    """A contract shipped with the package (``spec/<name>`` in the repository)."""
    return Path(str(importlib.resources.files("mockviking.contract").joinpath("yaml", name)))


def load_contract(path: str | Path | None = None) -> Contract:
    """Read, check and index the contract at ``path`` (the bundled one by default)."""
    if path is None:
        return bundled_contract("openapi.yaml")
    return _read_contract(str(path), check_schemas=True)


@functools.cache
def bundled_contract(name: str) -> Contract:
    """A contract shipped with mockviking, read once per process.

    Its schemas are not checked against the meta-schema here (that is most of the start-up
    time); the test suite checks the bundled contracts instead. A user's ``--spec`` is
    always checked.
    """
    return _read_contract(str(default_spec_path(name)), check_schemas=False)


def _read_contract(source: str, *, check_schemas: bool) -> Contract:
    try:
        text = Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{source}: cannot read the contract: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{source}: the contract is not UTF-8 text: {exc}") from exc
    return build_contract(_parse_yaml(text, source), source, check_schemas=check_schemas)


def _parse_yaml(text: str, source: str) -> t.Any:
    """The parsed contract, from a JSON copy when one was made for this exact text.

    Parsing the YAML is most of an app's start-up; the copy (in the temporary folder, named
    by a hash of the text, so it can never be stale) loads in a fraction of the time.
    """
    cache = Path(tempfile.gettempdir()) / f"mockviking-contract-{hashlib.sha256(text.encode()).hexdigest()[:32]}.json"
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    try:
        document = yaml.load(text, Loader=YamlLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: not valid YAML: {exc}") from exc
    try:
        copy = json.dumps(document)
        if json.loads(copy) == document:  # only a document JSON keeps exactly (no dates, int keys)
            temporary = cache.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(copy, encoding="utf-8")
            os.replace(temporary, cache)
    except (TypeError, ValueError, OSError):
        pass
    return document


def build_contract(document: t.Any, source: str = "<contract>", *, check_schemas: bool = True) -> Contract:
    """Check a parsed contract and index its operations."""
    if not isinstance(document, dict):
        raise SpecError(f"{source}: the contract must be a mapping, not {type(document).__name__}")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3.1"):
        raise SpecError(f"{source}: 'openapi' must be a 3.1.x version, found {version!r}")
    paths = document.get("paths")
    if not isinstance(paths, dict) or not paths:
        raise SpecError(f"{source}: 'paths' must be a non-empty mapping")

    resource = referencing.jsonschema.DRAFT202012.create_resource(document)
    registry: referencing.Registry[t.Any] = referencing.Registry().with_resource(SPEC_URI, resource)
    _check_refs(document, document, source, "")
    if check_schemas:
        _check_schemas(document, source)

    operations: list[Operation] = []
    seen_ids: dict[str, str] = {}
    for path, item in paths.items():
        where = f"{source}: paths.{path}"
        if not isinstance(path, str) or not path.startswith("/"):
            raise SpecError(f"{where}: a path must start with '/'")
        if not isinstance(item, dict):
            raise SpecError(f"{where}: must be a mapping")
        shared = item.get("parameters", [])
        # Keep the document's order: the first method of a path is the one 405s name.
        for method in item:
            if method not in HTTP_METHODS:
                continue
            op = _build_operation(document, path, method, item[method], shared, source)
            if op.operation_id in seen_ids:
                raise SpecError(
                    f"{where}.{method}: operationId {op.operation_id!r} is already used by "
                    f"{seen_ids[op.operation_id]}"
                )
            seen_ids[op.operation_id] = f"{method.upper()} {path}"
            operations.append(op)
    return Contract(document, tuple(operations), registry, source)


def _build_operation(
    document: t.Mapping[str, t.Any],
    path: str,
    method: str,
    raw: t.Any,
    shared: t.Any,
    source: str,
) -> Operation:
    where = f"{source}: paths.{path}.{method}"
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: must be a mapping")
    operation_id = raw.get("operationId")
    if not isinstance(operation_id, str) or not operation_id.isidentifier():
        raise SpecError(f"{where}: needs an operationId that is a Python identifier")
    access = raw.get("x-openviking-access")
    if access not in ACCESS_LEVELS:
        raise SpecError(f"{where}: x-openviking-access must be one of {', '.join(ACCESS_LEVELS)}")
    responses = raw.get("responses")
    if not isinstance(responses, dict) or not responses:
        raise SpecError(f"{where}: needs at least one response")
    roles = raw.get("x-openviking-roles", [])
    if not isinstance(roles, list) or not all(r in ("root", "admin", "user") for r in roles):
        raise SpecError(f"{where}: x-openviking-roles must list roles among root, admin, user")
    telemetry = raw.get("x-openviking-telemetry")
    if telemetry is not None and not isinstance(telemetry, str):
        raise SpecError(f"{where}: x-openviking-telemetry must be an operation name")

    params: dict[tuple[str, str], Parameter] = {}
    escaped = path.replace("~", "~0").replace("/", "~1")
    lists = (("", shared), (f"/{method}", raw.get("parameters", [])))
    for suffix, plist in lists:
        if not isinstance(plist, list):
            raise SpecError(f"{where}: 'parameters' must be a list")
        for index, node in enumerate(plist):
            pointer = f"/paths/{escaped}{suffix}/parameters/{index}"
            param = _build_parameter(document, node, pointer, source)
            params[(param.location, param.name.lower())] = param

    declared = {p.name for p in params.values() if p.location == "path"}
    templated = set(re.findall(r"\{([^}/]+)\}", path))
    if declared != templated:
        raise SpecError(
            f"{where}: path parameters {sorted(templated)} and declared ones "
            f"{sorted(declared)} differ"
        )

    body_pointer = None
    body_required = False
    yaml_body = False
    if "requestBody" in raw:
        body, body_ptr = _resolve(document, raw["requestBody"], f"/paths/{escaped}/{method}/requestBody", source)
        media = body.get("content", {}).get("application/json") if isinstance(body, dict) else None
        if not isinstance(media, dict) or "schema" not in media:
            raise SpecError(f"{where}: requestBody needs an application/json schema")
        body_pointer = f"{body_ptr}/content/application~1json/schema"
        body_required = bool(body.get("required", False))
        yaml_body = "application/yaml" in body.get("content", {})

    return Operation(
        operation_id=operation_id,
        method=method.upper(),
        path=path,
        access=access,
        parameters=tuple(params.values()),
        body_pointer=body_pointer,
        body_required=body_required,
        compact_envelope=bool(raw.get("x-openviking-compact-envelope", False)),
        statuses=frozenset(str(code) for code in responses),
        roles=tuple(roles),
        telemetry_operation=telemetry,
        yaml_body=yaml_body,
    )


def _build_parameter(
    document: t.Mapping[str, t.Any], node: t.Any, pointer: str, source: str
) -> Parameter:
    param, ptr = _resolve(document, node, pointer, source)
    where = f"{source}: #{ptr}"
    if not isinstance(param, dict):
        raise SpecError(f"{where}: a parameter must be a mapping")
    name, location = param.get("name"), param.get("in")
    if not isinstance(name, str) or location not in _PARAM_LOCATIONS:
        raise SpecError(f"{where}: a parameter needs a name and 'in' of {_PARAM_LOCATIONS}")
    if "schema" not in param:
        raise SpecError(f"{where}: parameter {name!r} needs a schema")
    required = bool(param.get("required", False))
    if location == "path" and not required:
        raise SpecError(f"{where}: path parameter {name!r} must be required")
    schema, schema_ptr = _resolve(document, param["schema"], f"{ptr}/schema", source)
    return Parameter(name, location, required, schema, schema_ptr)


def _resolve(
    document: t.Mapping[str, t.Any], node: t.Any, pointer: str, source: str
) -> tuple[t.Any, str]:
    """Follow local ``$ref`` chains; return the target and its pointer."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        ref = node["$ref"]
        if ref in seen:
            raise SpecError(f"{source}: #{pointer}: $ref cycle through {ref!r}")
        seen.add(ref)
        pointer = ref[1:]
        node = _walk(document, pointer, source)
    return node, pointer


def _walk(document: t.Any, pointer: str, source: str) -> t.Any:
    node = document
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise SpecError(f"{source}: #{pointer} does not exist")
    return node


def _check_refs(document: t.Any, node: t.Any, source: str, pointer: str) -> None:
    """Every ``$ref`` must be local and point at something."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise SpecError(f"{source}: #{pointer}: only local $refs are supported, got {ref!r}")
            try:
                _walk(document, ref[1:], source)
            except SpecError as exc:
                raise SpecError(f"{source}: #{pointer}: $ref {ref!r} points at nothing") from exc
        for key, value in node.items():
            escaped = str(key).replace("~", "~0").replace("/", "~1")
            _check_refs(document, value, source, f"{pointer}/{escaped}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_refs(document, value, source, f"{pointer}/{index}")


def _check_schemas(document: t.Mapping[str, t.Any], source: str) -> None:
    """Every schema under components must itself be a valid JSON Schema (2020-12)."""
    schemas = document.get("components", {}).get("schemas", {})
    if not isinstance(schemas, dict):
        raise SpecError(f"{source}: components.schemas must be a mapping")
    for name, schema in schemas.items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            location = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise SpecError(
                f"{source}: components.schemas.{name} at {location}: invalid schema: {exc.message}"
            ) from exc
