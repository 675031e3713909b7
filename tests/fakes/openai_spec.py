"""OpenAI's published OpenAPI document, so that the fake refuses what OpenAI would refuse.

`openai_openapi.json` beside this module is a subset of `openapi.json` from
github.com/openai/openai-openapi (commit and date in its `x-puente-source`): the operations
Puente calls and every schema they reference, nothing edited. Refresh it from a newer copy
with ``python -m tests.fakes.openai_spec path/to/openapi.json``.

`RequestSchemas.problem(method, path, body)` names what is wrong with a JSON request body
(None when it is valid): the request body schema of the matching operation, checked with
jsonschema's Draft 2020-12 validator (OpenAPI 3.1 schemas are JSON Schema 2020-12).
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema._keywords import anyOf
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# The document writes unions as `oneOf` whose members overlap (a user message is both an
# EasyInputMessage and an Item's InputMessage), and the API takes such input; so `oneOf` is
# read as `anyOf`: at least one member must match. Everything else is Draft 2020-12.
OpenAPIValidator = validators.extend(Draft202012Validator, {"oneOf": anyOf})

SPEC_FILE = Path(__file__).with_name("openai_openapi.json")
SPEC_URI = "urn:openai-openapi"
# The operations Puente uses (and the fake serves), as in the document's `paths`.
PATHS = (
    "/responses", "/conversations", "/conversations/{conversation_id}",
    "/conversations/{conversation_id}/items", "/audio/transcriptions", "/models",
    "/files", "/files/{file_id}", "/vector_stores", "/vector_stores/{vector_store_id}",
    "/vector_stores/{vector_store_id}/files", "/vector_stores/{vector_store_id}/files/{file_id}",
)


class RequestSchemas:
    """The JSON request body schemas of the vendored document, by method and URL path."""

    def __init__(self, spec: dict[str, Any]) -> None:
        registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT202012))
        self._operations: list[tuple[str, re.Pattern[str], Any]] = []
        for path, item in spec["paths"].items():
            pattern = re.compile("^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
            for method, operation in item.items():
                content = (operation.get("requestBody") or {}).get("content") or {}
                if "application/json" not in content:
                    continue
                pointer = f"#/paths/{_escape(path)}/{method}/requestBody/content/application~1json/schema"
                validator = OpenAPIValidator({"$ref": SPEC_URI + pointer}, registry=registry)
                self._operations.append((method.upper(), pattern, validator))

    def problem(self, method: str, path: str, body: Any) -> str | None:
        """What OpenAI's schema says is wrong with `body`, or None (also for unknown operations)."""
        for op_method, pattern, validator in self._operations:
            if op_method == method and pattern.match(path):
                error = best_match(validator.iter_errors(body))
                if error is None:
                    return None
                return "; ".join(dict.fromkeys(_described(leaf) for leaf in _leaves(error)))
        return None


@functools.cache
def request_schemas() -> RequestSchemas:
    """Loaded once per test session (the subset is a few hundred kB)."""
    return RequestSchemas(json.loads(SPEC_FILE.read_text()))


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors that say what is wrong, inside the union member the instance meant to be.

    A union's members differ by a `type` constant (`input_text`, `input_image`, ...); a member
    whose `type` does not match is not what the caller meant, so its errors are noise."""
    if not error.context:
        return [error]
    members: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        members.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = [errs for errs in members.values() if not any(_wrong_kind(e) for e in errs)]
    chosen = meant[0] if len(meant) == 1 else [error]
    if chosen == [error]:
        return [error]
    return [leaf for sub in chosen for leaf in _leaves(sub)]


def _wrong_kind(error: ValidationError) -> bool:
    return error.validator in ("const", "enum") and list(error.absolute_path)[-1:] == ["type"]


def _described(error: ValidationError) -> str:
    where = "".join(f"[{p!r}]" for p in error.absolute_path) or "the body"
    return f"{where}: {error.message[:300]}"


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def subset(spec: dict[str, Any], paths: tuple[str, ...] = PATHS) -> dict[str, Any]:
    """The document cut down to `paths` and the components they reach through `$ref`."""
    kept_paths = {path: spec["paths"][path] for path in paths if path in spec["paths"]}
    wanted: set[tuple[str, str]] = set()
    todo = [kept_paths]
    while todo:
        node = todo.pop()
        for ref in _refs(node):
            kind, name = ref.split("/")[2:4]
            if (kind, name) not in wanted:
                wanted.add((kind, name))
                todo.append(spec["components"][kind][name])
    components: dict[str, dict[str, Any]] = {}
    for kind, name in sorted(wanted):
        components.setdefault(kind, {})[name] = spec["components"][kind][name]
    return {"openapi": spec["openapi"], "info": spec["info"], "paths": kept_paths, "components": components}


def _refs(node: Any):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def main(argv: list[str]) -> None:
    """python -m tests.fakes.openai_spec OPENAPI_JSON COMMIT DATE"""
    source, commit, date = argv
    cut = subset(json.loads(Path(source).read_text()))
    cut["x-puente-source"] = {"repository": "https://github.com/openai/openai-openapi", "file": "openapi.json",
                              "commit": commit, "date": date, "paths": list(PATHS)}
    SPEC_FILE.write_text(json.dumps(cut, indent=1, sort_keys=False) + "\n")
    print(f"{SPEC_FILE}: {len(cut['paths'])} paths, {sum(map(len, cut['components'].values()))} components")


if __name__ == "__main__":
    main(sys.argv[1:])
