"""Requests judged by the spec's own JSON Schemas (jsonschema-rs, the validator schemathesis uses).

Parameters arrive as text; each is turned into the JSON value its schema's
type names (when it parses as one), and all of an operation's parameters are
validated in one call, as `{"path": {...}, "query": {...}, "header": {...}}`.
Where pydantic and JSON Schema disagree (nulls, NaN, huge integers, decimal
`multipleOf`, formats), this is the judge.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import jsonschema_rs

from .problems import FieldIssue, validation_failed

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
MESSAGE_LIMIT = 200


def coerce(text: str, json_type: str) -> Any:
    """The JSON value `text` stands for under `json_type`; the text itself when it is not one."""
    if json_type == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if json_type == "number" and _NUMBER.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else text
    if json_type == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _kind_name(error: Any) -> str:
    name = type(error.kind).__name__.rsplit("_", 1)[-1]
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _message(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _without_value(message: str) -> str:
    """`"hunter2..." is longer than 128 characters` -> `The value is longer than 128 characters`."""
    try:
        _, end = json.JSONDecoder().raw_decode(message)
    except ValueError:
        return "The value does not match the schema."
    return "The value" + message[end:]


class Validator:
    """One compiled schema; `check` raises RequestRejected (422) listing every issue."""

    def __init__(
        self,
        root: Mapping[str, Any],
        pointer: str,
        *,
        base_loc: tuple[str, ...] = (),
        secret_fields: frozenset[str] = frozenset(),
    ) -> None:
        schema = dict(root)
        schema["$ref"] = pointer
        self._validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        self._base_loc = base_loc
        self._secret_fields = secret_fields

    def issues(self, instance: Any) -> list[FieldIssue]:
        try:
            errors = list(self._validator.iter_errors(instance))
        except (ValueError, OverflowError) as exc:  # for example an integer past 64 bits
            return [FieldIssue(self._base_loc, _message(str(exc)), "invalid")]
        issues: list[FieldIssue] = []
        for error in errors:
            loc: list[str | int] = [*self._base_loc, *error.instance_path]
            kind = _kind_name(error)
            prop = getattr(error.kind, "property", None)
            if kind == "required" and isinstance(prop, str):
                loc.append(prop)
            unexpected = getattr(error.kind, "unexpected", None)
            if kind == "additional_properties" and unexpected:
                loc.append(str(unexpected[0]))
            path = list(error.instance_path)
            message = error.message
            if path and path[0] in self._secret_fields:
                message = _without_value(message)
            issues.append(FieldIssue(tuple(loc), _message(message), kind))
        return issues

    def check(self, instance: Any) -> None:
        try:
            if self._validator.is_valid(instance):
                return
        except (ValueError, OverflowError):
            pass  # issues() says what
        raise validation_failed(self.issues(instance))


def parameters_validator(root: Mapping[str, Any], operation_id: str) -> Validator:
    return Validator(root, f"#/x-operations/{operation_id}/parameters")


def body_validator(
    root: Mapping[str, Any], operation_id: str, media_type: str, secret_fields: frozenset[str]
) -> Validator:
    pointer = f"#/x-operations/{operation_id}/bodies/{media_type.replace('~', '~0').replace('/', '~1')}"
    return Validator(root, pointer, base_loc=("body",), secret_fields=secret_fields)
