"""The errors the Ren API client raises, each with a message a user can act on.

    AstraError
    ├── MissingKeyError          no key configured (nothing was sent)
    ├── InsecureURLError         http:// to a non-loopback host (nothing was sent)
    ├── APIStatusError           the API answered with an error status
    │   ├── BadRequestError          400 invalid_request_error
    │   ├── AuthenticationError      401 authentication_error
    │   ├── PermissionDeniedError    403 permission_error
    │   ├── NotFoundError            404 not_found_error
    │   ├── RequestTooLargeError     413 request_too_large
    │   ├── RateLimitError           429 rate_limit_error        (retried)
    │   ├── ServerError              500 api_error               (retried)
    │   └── OverloadedError          529 overloaded_error        (retried)
    ├── APIConnectionError       the connection failed             (retried)
    │   └── APITimeoutError          connect / first byte / gap between events
    └── StreamError              the stream went wrong after it started
        ├── BrokenStreamError        ended without message_stop (partial text kept)
        ├── StreamErrorEvent         an `error` event arrived mid-stream
        └── MalformedEventError      an event's data was not what the wire format says

Every error carries ``partial_text``: what arrived before it, so no answer is lost.
Messages never contain the API key (the client never puts it in one).
"""

from __future__ import annotations

KEY_HELP = (
    "set REN_API_KEY, or apiKey / apiKeyCommand in your editor's ren-lsp settings (VS Code: "
    "\"Ren: Set API key\") or in the ren-lsp config.toml (run `ren-lsp doctor` to see where "
    "settings come from)"
)


class AstraError(Exception):
    """Base of every error the Ren API client raises."""

    #: whether the client may retry this error (only before any text arrived)
    retryable: bool = False

    def __init__(self, message: str, *, partial_text: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.partial_text = partial_text

    def __str__(self) -> str:
        return self.message


class MissingKeyError(AstraError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or f"No Ren API key is set: {KEY_HELP}.")


class InsecureURLError(AstraError):
    """Refused before connecting: the key must not travel over plain http."""


class APIStatusError(AstraError):
    status_code: int = 0
    error_type: str = "api_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        partial_text: str = "",
    ) -> None:
        super().__init__(message, partial_text=partial_text)
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type
        self.request_id = request_id
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    status_code = 400
    error_type = "invalid_request_error"


class AuthenticationError(APIStatusError):
    status_code = 401
    error_type = "authentication_error"


class PermissionDeniedError(APIStatusError):
    status_code = 403
    error_type = "permission_error"


class NotFoundError(APIStatusError):
    status_code = 404
    error_type = "not_found_error"


class RequestTooLargeError(APIStatusError):
    status_code = 413
    error_type = "request_too_large"


class RateLimitError(APIStatusError):
    status_code = 429
    error_type = "rate_limit_error"
    retryable = True


class ServerError(APIStatusError):
    status_code = 500
    error_type = "api_error"
    retryable = True


class OverloadedError(APIStatusError):
    status_code = 529
    error_type = "overloaded_error"
    retryable = True


class APIConnectionError(AstraError):
    retryable = True


class APITimeoutError(APIConnectionError):
    def __init__(self, message: str, *, phase: str, partial_text: str = "") -> None:
        super().__init__(message, partial_text=partial_text)
        #: "connect", "first_byte" or "event_gap"
        self.phase = phase
        # Only a connect timeout is safe to retry: a slow first byte means the server is busy
        # working, and asking again would double the wait.
        self.retryable = phase == "connect"


class StreamError(AstraError):
    pass


class BrokenStreamError(StreamError):
    pass


class StreamErrorEvent(StreamError):
    def __init__(self, message: str, *, error_type: str, partial_text: str = "") -> None:
        super().__init__(message, partial_text=partial_text)
        self.error_type = error_type
        # An overloaded/api error before any text is as safe to retry as a 529.
        self.retryable = error_type in {"overloaded_error", "api_error"} and not partial_text


class MalformedEventError(StreamError):
    pass


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    cls.status_code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        RequestTooLargeError,
        RateLimitError,
        ServerError,
        OverloadedError,
    )
}
