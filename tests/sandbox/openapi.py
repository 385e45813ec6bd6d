"""Spotify's 2026 OpenAPI description (../shared/specs) as a checker for requests and answers.

Shared by the sandbox's own conformance tests and the bot's (which record every request genrebot
makes). The schemas are read as Spotify answers, where the description says more in words than in
its schemas, or Spotify answers more than it says:
- an entry's track "may be `null`" when Spotify no longer serves it (SimplifiedPlaylistObject's
  note), and an audio-features array holds null for a track without them (felix-hilden/tekore#99,
  jsncmgs1/spotify_ex#58): those may be null;
- a field the description marks deprecated is not required: "The following fields have been
  removed from response objects. Update your code to handle their absence gracefully" (Spotify's
  February 2026 migration guide), among them album and show `available_markets`, which the
  schemas still list as required;
- an answer cut down by `fields` is checked without the schemas' required fields;
- the counts the description caps in words ("Maximum: 100 IDs", "A maximum of 100 items can be
  added in one request") are read from the parameter's or property's description.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.conftest import SPECS

SPEC_FILE = SPECS / "spotify-web-api.openapi.yml"
API_PREFIX = "/v1"
# "Maximum: 40 URIs.", "A maximum of 100 items can be added in one request", "A maximum of 100
# objects can be sent at once": a count the description caps in words.
_PROSE_MAXIMUM = re.compile(r"[Mm]aximum(?: of)?:? (\d+) (?:IDs|URIs|items|objects)\b")


@cache
def spec() -> dict[str, Any]:
    import yaml

    loaded: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text())
    return loaded


def _openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` becomes JSON Schema's type union with null."""
    if isinstance(node, dict):
        out = {k: _openapi_to_json_schema(v) for k, v in node.items()}
        if out.pop("nullable", False):
            if "type" in out:
                out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
            elif "$ref" in out or "allOf" in out or "oneOf" in out:
                out = {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_openapi_to_json_schema(v) for v in node]
    return node


def _deprecated_not_required(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _deprecated_not_required(v) for k, v in node.items()}
        properties = out.get("properties")
        if isinstance(out.get("required"), list) and isinstance(properties, dict):
            out["required"] = [name for name in out["required"]
                               if not (isinstance(properties.get(name), dict) and properties[name].get("deprecated"))]
        return out
    if isinstance(node, list):
        return [_deprecated_not_required(v) for v in node]
    return node


def _without_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


@cache
def schema_spec(*, partial: bool = False) -> dict[str, Any]:
    """The description as JSON Schema, with the entries Spotify shows as null allowed to be null;
    `partial`: no field required (an answer cut down by `fields`)."""
    converted: dict[str, Any] = _deprecated_not_required(_openapi_to_json_schema(spec()))
    schemas = converted["components"]["schemas"]
    for name, prop in (("PlaylistTrackObject", "item"), ("PlaylistTrackObject", "track"), ("SavedTrackObject", "track")):
        schemas[name]["properties"][prop] = {"anyOf": [schemas[name]["properties"][prop], {"type": "null"}]}
    features = converted["components"]["responses"]["ManyAudioFeatures"]["content"]["application/json"]["schema"]
    features["properties"]["audio_features"]["items"] = {"anyOf": [features["properties"]["audio_features"]["items"],
                                                                   {"type": "null"}]}
    return _without_required(converted) if partial else converted


def _resolved(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _rebase(node: Any) -> Any:
    """Point local '#/components/…' references at the registered spec document."""
    if isinstance(node, dict):
        return {k: ("spec" + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def schema_errors(schema: dict[str, Any], value: Any, *, partial: bool = False) -> list[str]:
    """Where `value` breaks `schema` (a schema of the description, its references resolved);
    `partial`: fields may be missing (an answer cut down by `fields`)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = schema_spec(partial=partial)
    if partial:
        schema = _without_required(schema)
    registry = Registry().with_resource("spec", Resource(contents=document, specification=DRAFT202012))  # type: ignore[call-arg]
    validator = jsonschema.Draft202012Validator(_rebase(schema), registry=registry)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors[:40]]


def response_schema(path: str, method: str, status: int) -> dict[str, Any] | None:
    """The schema of the answer the description gives `method path` for `status` (None: no body)."""
    document = schema_spec()
    response = _resolved(document, document["paths"][path][method]["responses"][str(status)])
    content = response.get("content", {}).get("application/json")
    return None if content is None else dict(content["schema"])


def check(path: str, method: str, status: int, body: Any) -> None:
    """`body` is what the description says `method path` answers with `status`."""
    schema = response_schema(path, method, status)
    assert schema is not None, f"{method.upper()} {path} {status}: the description gives no body"
    errors = schema_errors(schema, body)
    assert not errors, f"{method.upper()} {path} {status}: " + "; ".join(errors)


def operation_of(method: str, url: str) -> tuple[str, dict[str, Any]]:
    """The description's path template and operation for a request (a trailing slash as
    spotipy sends it is the same path); AssertionError when the description has none."""
    route = urlsplit(url).path
    assert route.startswith(API_PREFIX + "/"), f"not a Web API path: {route}"
    parts = route.removeprefix(API_PREFIX).rstrip("/").split("/")
    candidates = []
    for template, operations in spec()["paths"].items():
        pattern = template.split("/")
        if len(pattern) == len(parts) and all(p == q or (p.startswith("{") and p.endswith("}"))
                                              for p, q in zip(pattern, parts, strict=True)):
            candidates.append((sum(p.startswith("{") for p in pattern), template, operations))
    assert candidates, f"{method} {route}: no such path in Spotify's description"
    _, template, operations = min(candidates, key=lambda c: c[0])  # a literal segment beats a template
    operation = operations.get(method.lower())
    assert isinstance(operation, dict), f"{method} {template}: no such operation in Spotify's description"
    return template, operation


def prose_maximum(description: str | None) -> int | None:
    found = _PROSE_MAXIMUM.search(description or "")
    return int(found.group(1)) if found else None


def request_problems(method: str, url: str, body: bytes | None) -> list[str]:
    """What in a request the description does not allow: an unknown query parameter, a number out
    of its range, more values than its words allow, a body that does not fit."""
    document = spec()
    template, operation = operation_of(method, url)
    name = f"{method} {template}"
    problems = []
    declared = {p["name"]: p for p in (_resolved(document, p) for p in operation.get("parameters", [])) if p["in"] == "query"}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        parameter = declared.get(key)
        if parameter is None:
            problems.append(f"{name}: query parameter {key!r} is not in the description")
            continue
        schema = parameter.get("schema", {})
        if schema.get("type") == "integer":
            number = int(value)
            if number < schema.get("minimum", 0) or ("maximum" in schema and number > schema["maximum"]):
                problems.append(f"{name}: {key}={value} is outside {schema.get('minimum', 0)}..{schema.get('maximum')}")
        cap = prose_maximum(parameter.get("description") or schema.get("description"))
        if cap is not None and schema.get("type") == "string" and len(value.split(",")) > cap:
            problems.append(f"{name}: {len(value.split(','))} values in {key}, the description allows {cap}")
    if body:
        problems.extend(_body_problems(name, operation, json.loads(body)))
    return problems


def _body_problems(name: str, operation: dict[str, Any], payload: Any) -> list[str]:
    document = schema_spec()
    content = _resolved(document, operation.get("requestBody", {})).get("content", {}).get("application/json")
    if content is None:
        return [f"{name}: the description takes no body"]
    schema = content["schema"]
    if isinstance(payload, list) and "uris" in schema.get("properties", {}):
        # spotipy's playlist_add_items posts the bare array; Spotify takes it as `uris` (specs/README).
        payload = {"uris": payload}
    problems = [f"{name} body {e}" for e in schema_errors(schema, payload)]
    for prop, prop_schema in schema.get("properties", {}).items():
        cap = prose_maximum(prop_schema.get("description"))
        if cap is not None and isinstance(payload, dict) and len(payload.get(prop) or []) > cap:
            problems.append(f"{name}: {len(payload[prop])} {prop} in the body, the description allows {cap}")
    return problems
