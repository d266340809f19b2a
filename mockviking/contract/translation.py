"""jsonschema failures in the real server's words.

The real server validates with pydantic behind FastAPI, so a client sees pydantic's type
names (``missing``, ``string_type``, ``too_long``...) and messages. mockviking validates with
jsonschema against the contract and translates each failure into that vocabulary here.
"""

from __future__ import annotations

import dataclasses
import json
import typing as t

import jsonschema

from mockviking.contract.refusals import Refusal, RouteRefusal

_TYPE_ERRORS: dict[str, tuple[str, str]] = {
    "string": ("string_type", "Input should be a valid string"),
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "array": ("list_type", "Input should be a valid list"),
}
_MODEL_TYPE = (
    "model_attributes_type",
    "Input should be a valid dictionary or object to extract fields from",
)
_DICT_TYPE = ("dict_type", "Input should be a valid dictionary")


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One validation failure, shaped like an entry of ``details.validation_errors``."""

    loc: tuple[str, ...]
    message: str
    type: str
    #: The offending value, for violation reports; the real server's answer leaves it out.
    value: t.Any = dataclasses.field(default=None, compare=False)

    def as_dict(self) -> dict[str, t.Any]:
        """The JSON form the real server sends."""
        return {"loc": list(self.loc), "message": self.message, "type": self.type}


@dataclasses.dataclass(frozen=True, eq=False)
class ServiceFailure(FieldError):
    """A rule the real server checks after validation, answering its own error instead.

    Declared in the contract with ``x-service-error``; it only counts when nothing else in
    the request is invalid, as the real server reaches its check only then.
    """

    spec: t.Mapping[str, t.Any] = dataclasses.field(default_factory=dict)


def service_error(failures: t.Sequence[ServiceFailure]) -> Refusal:
    """The real server's error for the first failed rule (its failures merged).

    In the rule's ``message`` and ``details``, ``{value}`` stands for the offending value and
    ``{extra}`` for every offending name, sorted (a ``propertyNames`` rule fails once per name).
    """
    first = failures[0]
    group = [f for f in failures if f.spec is first.spec]
    extra = ", ".join(sorted(str(f.value) for f in group))

    def fill(template: t.Any) -> t.Any:
        if template == "{value}":
            return first.value
        if isinstance(template, str):
            return template.replace("{value}", str(first.value)).replace("{extra}", extra)
        if isinstance(template, dict):
            return {key: fill(item) for key, item in template.items()}
        return template

    spec = first.spec
    kind = RouteRefusal if spec.get("shape") == "route" else Refusal
    details = fill(spec["details"]) if "details" in spec else None
    return kind(spec.get("code", "INVALID_ARGUMENT"), fill(spec.get("message", "Invalid value")), details,
                violations=failures)


class RequestInvalid(RouteRefusal):
    """INVALID_ARGUMENT naming the first failure, with all of them in details."""

    def __init__(self, errors: t.Sequence[FieldError]) -> None:
        first = errors[0]
        super().__init__(
            "INVALID_ARGUMENT",
            f"Invalid request parameters: {'.'.join(first.loc)}: {first.message}",
            {"validation_errors": [e.as_dict() for e in errors]},
            violations=errors,
        )
        self.errors = tuple(errors)


def translate(
    errors: t.Iterable[jsonschema.ValidationError], prefix: tuple[str, ...]
) -> list[FieldError]:
    """jsonschema failures as pydantic-style field errors, in the order a client expects.

    Rules marked ``x-error-mode: before`` run before the fields, so where one fails it is
    the only error for that object. Other model-level rules (``x-error-message`` on a
    combinator) count only where no field of the object failed, as pydantic runs such
    validators only on valid fields.
    """
    field_errors: list[FieldError] = []
    model_errors: list[FieldError] = []
    before_errors: list[FieldError] = []
    for error in errors:
        at = _loc(prefix, error)
        for item, kind in _translate_one(error, prefix):
            if item.value is None and item.loc == at:
                item = dataclasses.replace(item, value=error.instance)
            {"field": field_errors, "model": model_errors, "before": before_errors}[kind].append(item)

    def covered(item: FieldError, by: t.Sequence[FieldError]) -> bool:
        return any(item.loc[: len(b.loc)] == b.loc for b in by)

    fields = [f for f in field_errors if not covered(f, before_errors)]
    models = [m for m in model_errors if not covered(m, before_errors) and not any(
        f.loc[: len(m.loc)] == m.loc for f in fields
    )]
    # jsonschema reports each missing property separately, and each report names them all.
    unique: list[FieldError] = []
    for item in before_errors + fields + models:
        if isinstance(item, ServiceFailure) or item not in unique:
            unique.append(item)
    return unique


def _loc(prefix: tuple[str, ...], error: jsonschema.ValidationError) -> tuple[str, ...]:
    return prefix + tuple(str(p) for p in error.absolute_path)


_Translated = list[tuple[FieldError, str]]


def _translate_one(error: jsonschema.ValidationError, prefix: tuple[str, ...]) -> _Translated:
    schema = error.schema if isinstance(error.schema, dict) else {}
    loc = _loc(prefix, error)
    keyword = error.validator
    value: t.Any = error.validator_value
    instance: t.Any = error.instance

    if schema.get("x-checked-by") == "handler":
        return []  # the operation's handler checks this rule and answers in the real words
    service = schema.get("x-service-error")
    if isinstance(service, dict):
        return [(_service_failure(loc, service, instance), "field")]
    if schema.get("x-coerce") == "integer" and keyword in ("anyOf", "type"):
        return [(_lax_integer_error(loc, instance, schema), "field")]
    if schema.get("x-coerce") == "boolean" and keyword in ("anyOf", "type"):
        return [(_type_error(loc, "boolean", instance, schema), "field")]
    custom = schema.get("x-error-message")
    if custom and keyword in ("anyOf", "oneOf", "pattern", "not", "allOf"):
        if schema.get("x-error-mode") == "before":
            kind = "before"
        else:
            kind = "model" if keyword in ("anyOf", "oneOf", "allOf") and "properties" in schema else "field"
        return [(FieldError(loc, custom, schema.get("x-error-type", "value_error")), kind)]
    if keyword == "required":
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        return [(FieldError(loc + (name,), "Field required", "missing"), "field") for name in missing]
    if keyword == "type":
        return [(_type_error(loc, value, instance, schema), "field")]
    if keyword in ("anyOf", "oneOf"):
        return _translate_union(error, prefix)
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        extras = [key for key in instance if key not in known]
        return [
            (FieldError(loc + (key,), "Extra inputs are not permitted", "extra_forbidden"), "field")
            for key in extras
        ]
    return [(_keyword_error(loc, str(keyword), value, instance), "field")]


def _service_failure(
    loc: tuple[str, ...], spec: t.Mapping[str, t.Any], instance: t.Any
) -> ServiceFailure:
    return ServiceFailure(loc, str(spec.get("message", "Invalid value")), "service_error", instance, spec)


def _lax_integer_error(loc: tuple[str, ...], instance: t.Any, schema: t.Mapping[str, t.Any]) -> FieldError:
    """A lax integer that failed: not an integer at all, or one outside its bounds or rule."""
    if not isinstance(instance, int) or isinstance(instance, bool):
        return _type_error(loc, "integer", instance, schema)
    custom = schema.get("x-error-message")
    if custom:
        return FieldError(loc, custom, schema.get("x-error-type", "value_error"))
    for branch in schema.get("anyOf", []):
        if isinstance(branch, dict) and branch.get("type") == "integer":
            for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                bound = branch.get(keyword)
                failed = bound is not None and (
                    (keyword == "minimum" and instance < bound) or (keyword == "maximum" and instance > bound)
                    or (keyword == "exclusiveMinimum" and instance <= bound)
                    or (keyword == "exclusiveMaximum" and instance >= bound))
                if failed:
                    return _keyword_error(loc, keyword, bound, instance)
    return _type_error(loc, "integer", instance, schema)


def _translate_union(error: jsonschema.ValidationError, prefix: tuple[str, ...]) -> _Translated:
    """``Optional[X]`` reports X's errors; a tagged union reports every branch under its tag."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    branches: list[t.Any] = list(t.cast(t.Iterable[t.Any], error.validator_value))
    context = list(error.context or [])
    loc = _loc(prefix, error)
    tags = schema.get("x-union-tags")
    if isinstance(tags, list) and len(tags) == len(branches):
        out: _Translated = []
        for index, tag in enumerate(tags):
            for sub in context:
                if sub.relative_schema_path and sub.relative_schema_path[0] == index:
                    for item, kind in _translate_one(sub, prefix):
                        tagged = loc + (str(tag),) + item.loc[len(loc):]
                        out.append((dataclasses.replace(item, loc=tagged), kind))
        return out
    non_null = [
        i for i, b in enumerate(branches)
        if not (isinstance(b, dict) and b.get("type") == "null")
    ]
    if len(non_null) == 1:
        chosen = [
            e for e in context
            if e.relative_schema_path and e.relative_schema_path[0] == non_null[0]
        ]
    else:
        best = jsonschema.exceptions.best_match(context) if context else None
        chosen = [best] if best is not None else []
    if not chosen:
        return [(FieldError(loc, "Input does not match any allowed form", "union_tag_invalid"), "field")]
    out = []
    for sub in chosen:
        out.extend(_translate_one(sub, prefix))
    return out


def _type_error(
    loc: tuple[str, ...], expected: t.Any, instance: t.Any, schema: t.Mapping[str, t.Any]
) -> FieldError:
    kinds = [expected] if isinstance(expected, str) else [k for k in expected if k != "null"]
    kind = kinds[0] if kinds else "null"
    if kind == "object":
        # A model (declared properties) and a plain dict are reported differently.
        is_dict = schema.get("x-pydantic-type") == "dict" or "properties" not in schema
        code, message = _DICT_TYPE if is_dict else _MODEL_TYPE
        return FieldError(loc, message, code)
    if kind == "integer":
        if isinstance(instance, float) and not isinstance(instance, bool):
            return FieldError(
                loc, "Input should be a valid integer, got a number with a fractional part", "int_from_float"
            )
        if isinstance(instance, str):
            return FieldError(
                loc, "Input should be a valid integer, unable to parse string as an integer", "int_parsing"
            )
    if kind == "boolean" and isinstance(instance, (str, int, float)) and not isinstance(instance, bool):
        return FieldError(loc, "Input should be a valid boolean, unable to interpret input", "bool_parsing")
    if kind == "null":
        return FieldError(loc, "Input should be None", "none_required")
    code, message = _TYPE_ERRORS.get(kind, ("type_error", f"Input should be a valid {kind}"))
    return FieldError(loc, message, code)


def _keyword_error(loc: tuple[str, ...], keyword: str, value: t.Any, instance: t.Any) -> FieldError:
    size = len(instance) if isinstance(instance, (list, str, dict)) else 0
    if keyword == "maxItems":
        plural = "item" if value == 1 else "items"
        return FieldError(
            loc, f"List should have at most {value} {plural} after validation, not {size}", "too_long"
        )
    if keyword == "minItems":
        plural = "item" if value == 1 else "items"
        return FieldError(
            loc, f"List should have at least {value} {plural} after validation, not {size}", "too_short"
        )
    if keyword == "maxLength":
        plural = "character" if value == 1 else "characters"
        return FieldError(loc, f"String should have at most {value} {plural}", "string_too_long")
    if keyword == "minLength":
        plural = "character" if value == 1 else "characters"
        return FieldError(loc, f"String should have at least {value} {plural}", "string_too_short")
    if keyword == "minimum":
        return FieldError(loc, f"Input should be greater than or equal to {value}", "greater_than_equal")
    if keyword == "maximum":
        return FieldError(loc, f"Input should be less than or equal to {value}", "less_than_equal")
    if keyword == "exclusiveMinimum":
        return FieldError(loc, f"Input should be greater than {value}", "greater_than")
    if keyword == "exclusiveMaximum":
        return FieldError(loc, f"Input should be less than {value}", "less_than")
    if keyword in ("enum", "const"):
        options = [v for v in (value if keyword == "enum" else [value]) if v is not None]
        return FieldError(loc, f"Input should be {_or_list(options)}", "literal_error")
    if keyword == "pattern":
        return FieldError(loc, f"String should match pattern '{value}'", "string_pattern_mismatch")
    return FieldError(loc, f"Value error, {keyword} check failed", "value_error")


def _or_list(options: t.Sequence[t.Any]) -> str:
    quoted = [repr(o) if isinstance(o, str) else json.dumps(o) for o in options]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
