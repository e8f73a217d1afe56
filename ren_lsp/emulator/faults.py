"""What the emulator can be told to do wrong (`Fault`) and what it remembers (`RecordedRequest`).

Both are plain attrs classes so tests can build them directly, and both round-trip through JSON
for the out-of-process control endpoints (`POST /_emulator/script`, `GET /_emulator/requests`).
"""

from __future__ import annotations

import re
import time
from typing import Any

import attrs

__all__ = ["DIALECTS", "ERROR_TYPES", "STOP_REASONS", "Fault", "RecordedRequest", "error_type_for"]

#: The wire formats the emulator speaks (`RecordedRequest.dialect`).
DIALECTS = ("ren", "anthropic", "openai", "ollama")
#: The stop reasons a text reply may be scripted to end with (`Fault.stop_reason`).
STOP_REASONS = ("end_turn", "max_tokens", "stop_sequence")

#: The error table of ren-api.md: HTTP status -> `error.type` in the body.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_type_for(status: int) -> str:
    """The `error.type` the Ren API sends with `status` (api_error for an unknown 5xx)."""
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    # The table is silent on other codes; pick the family's catch-all so clients still classify.
    return "api_error" if status >= 500 else "invalid_request_error"


_opt_int = attrs.validators.optional(attrs.validators.instance_of(int))
_opt_str = attrs.validators.optional(attrs.validators.instance_of(str))


def _opt_float(value: Any) -> float | None:
    """Accept ints from JSON where a float is meant (`"delay": 2`)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _float(value: Any) -> float:
    converted = _opt_float(value)
    return 0.0 if converted is None else converted


def _non_negative(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _error_status(_inst: object, _attribute: attrs.Attribute[Any], value: int | None) -> None:
    # A "fault" with a 2xx/3xx status would be a normal reply with an error body: reject it early.
    if value is not None and not 400 <= value <= 599:
        raise ValueError(f"status must be an HTTP error status (400-599), got {value}")


def _tool_use(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, str | bool):
        raise TypeError(f"tool_use must be a tool name, true or null, got {value!r}")


@attrs.define(kw_only=True)
class Fault:
    """One scripted misbehaviour, taken by one model request, whatever its dialect.

    Every field is optional; a `Fault()` with no field set is a normal reply. Stream-only fields
    (`trickle`, `drop_after`, `error_event_after`, `malformed_after`, `unknown_event`) have no
    effect on a request that is not streamed. "N events" counts every unit the dialect writes:
    an SSE event for `/v1/messages` (`message_start` included), a `data:` line for
    `/v1/chat/completions` (`[DONE]` included), a JSON line for `/api/chat`. `stop_reason`
    (`end_turn`, `max_tokens`, `stop_sequence`) ends a text reply with that reason instead, in
    each dialect's words (`length` for `max_tokens` in OpenAI's and Ollama's).
    """

    status: int | None = attrs.field(default=None, validator=[_opt_int, _error_status])
    error_type: str | None = attrs.field(default=None, validator=_opt_str)
    message: str | None = attrs.field(default=None, validator=_opt_str)
    retry_after: float | None = attrs.field(
        default=None, converter=_opt_float, validator=_non_negative
    )
    delay: float = attrs.field(default=0.0, converter=_float, validator=_non_negative)
    trickle: float = attrs.field(default=0.0, converter=_float, validator=_non_negative)
    drop_after: int | None = attrs.field(default=None, validator=[_opt_int, _non_negative])
    error_event_after: int | None = attrs.field(default=None, validator=[_opt_int, _non_negative])
    malformed_after: int | None = attrs.field(default=None, validator=[_opt_int, _non_negative])
    unknown_event: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    tool_use: str | bool | None = attrs.field(default=None, validator=_tool_use)
    text: str | None = attrs.field(default=None, validator=_opt_str)
    deltas: int | None = attrs.field(default=None, validator=[_opt_int, _non_negative])
    stop_reason: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(STOP_REASONS))
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Build a Fault from a JSON object whose keys are camelCase or snake_case.

        Raises ValueError (naming the key) for an unknown key, TypeError/ValueError for a bad value.
        """
        if not isinstance(data, dict):
            raise TypeError(f"a fault must be a JSON object, got {data!r}")
        known = {a.name for a in attrs.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = _snake(key)
            if name not in known:
                raise ValueError(f"unknown fault field {key!r}; known: {sorted(known)}")
            kwargs[name] = value
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The fault as a JSON-ready dict (snake_case keys, defaults omitted)."""
        return {
            a.name: getattr(self, a.name)
            for a in attrs.fields(type(self))
            if getattr(self, a.name) != a.default
        }


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


@attrs.define(kw_only=True)
class RecordedRequest:
    """One model request as the emulator saw and answered it, in any dialect.

    The record is created when the request arrives and updated while the reply is written, so a
    test can watch `events_sent` grow or wait for `hung_up`. `status` is 0 until a status line
    has been decided (e.g. the client hung up during a scripted delay). Header names are
    lower-cased; `authorization` (and `x-api-key`) are masked so the key is never stored.

    `path` is the route (`/v1/messages`, `/v1/chat/completions`, `/api/chat`), `dialect` one of
    `DIALECTS`; `body` is the body as sent, `internal` the Anthropic-shaped body the reply was
    planned from (None when the request was refused before it could be converted), and
    `num_ctx` Ollama's `options.num_ctx` (None when not sent or another dialect).
    """

    path: str = "/v1/messages"
    dialect: str = "ren"
    body: dict[str, Any] | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    status: int = 0
    stream: bool = False
    events_sent: int = 0
    completed: bool = False
    hung_up: bool = False
    fault: Fault | None = None
    #: time.monotonic() when the first text delta was written (benchmarks measure from it)
    first_delta_at: float | None = None
    #: time.monotonic() when the request arrived, and when its reply was all written
    arrived_at: float = attrs.field(factory=time.monotonic)
    finished_at: float | None = None
    internal: dict[str, Any] | None = None
    num_ctx: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict (for `GET /_emulator/requests`)."""
        data = attrs.asdict(self, recurse=False)
        data["fault"] = None if self.fault is None else self.fault.to_dict()
        return data
