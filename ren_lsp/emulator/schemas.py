"""The emulator's JSON Schemas: found, loaded once, and applied.

The Ren API's request and stream events (`/v1/messages`, also the anthropic dialect), and the
requests of the OpenAI (`/v1/chat/completions`) and Ollama (`/api/chat`) dialects.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ren_lsp import jsonschemas
from ren_lsp.jsonschemas import schema_dir

__all__ = [
    "EVENTS_SCHEMA",
    "OLLAMA_REQUEST_SCHEMA",
    "OPENAI_REQUEST_SCHEMA",
    "REQUEST_SCHEMA",
    "event_validator",
    "request_error",
    "request_validator",
    "schema_dir",
    "schema_problem",
]

REQUEST_SCHEMA = "ren-api-request.schema.json"
EVENTS_SCHEMA = "ren-api-events.schema.json"
OPENAI_REQUEST_SCHEMA = "openai-chat-request.schema.json"
OLLAMA_REQUEST_SCHEMA = "ollama-chat-request.schema.json"


def _validator(name: str) -> Draft202012Validator:
    return jsonschemas.validator(name)


def request_validator() -> Draft202012Validator:
    """The (cached) validator for a request body."""
    return _validator(REQUEST_SCHEMA)


def event_validator() -> Draft202012Validator:
    """The (cached) validator for one stream event's data."""
    return _validator(EVENTS_SCHEMA)


def request_error(body: Any) -> str | None:
    """Why `body` is not a valid Ren API request, naming the offending path; None if valid.

    Beyond the schema, the roles must alternate starting with `user`, which JSON Schema cannot
    express simply.
    """
    error = best_match(request_validator().iter_errors(body))
    if error is not None:
        path = ".".join(str(part) for part in error.absolute_path) or "body"
        return f"{path}: {error.message}"
    for index, message in enumerate(body["messages"]):
        expected = "user" if index % 2 == 0 else "assistant"
        if message["role"] != expected:
            return (
                f"messages.{index}.role: expected {expected!r} "
                "(roles alternate, starting with 'user')"
            )
    return None


def schema_problem(name: str, body: Any) -> tuple[str, str] | None:
    """Why `body` fails the schema file `name`: (dotted path of the field, message); or None."""
    error = best_match(_validator(name).iter_errors(body))
    if error is None:
        return None
    return ".".join(str(part) for part in error.absolute_path) or "body", error.message
