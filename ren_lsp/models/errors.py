"""The errors a model client raises, whatever the backend, each with a message a user can act
on: it names the backend and the fix.

    ModelError
    ├── MissingKeyError          no key configured (nothing was sent)
    ├── ConfigurationError       a setting makes the request impossible (nothing was sent)
    │   └── InsecureURLError         http:// to a non-loopback host
    ├── ToolsNotSupportedError   the backend cannot call tools (said before anything is sent)
    ├── APIStatusError           the server answered with an error status
    │   ├── BadRequestError          400
    │   ├── AuthenticationError      401
    │   ├── PermissionDeniedError    403
    │   ├── NotFoundError            404
    │   ├── RequestTooLargeError     413
    │   ├── RateLimitError           429                         (retried)
    │   ├── ServerError              500 and other 5xx           (retried)
    │   └── OverloadedError          529, 503                    (retried)
    ├── APIConnectionError       the connection failed             (retried)
    │   └── APITimeoutError          connect / first byte / gap between events
    └── StreamError              the stream went wrong after it started
        ├── BrokenStreamError        ended before the reply was complete (partial text kept)
        ├── StreamErrorEvent         an error arrived mid-stream
        └── MalformedEventError      data that is not what the wire format says

Every error carries ``partial_text``: what arrived before it, so no answer is lost.
Messages never contain the API key (no code puts it in one).
"""

from __future__ import annotations


class ModelError(Exception):
    """Base of every error a model client raises."""

    #: whether the client may retry this error (only before any text arrived)
    retryable: bool = False

    def __init__(self, message: str, *, partial_text: str = "") -> None:
        super().__init__(message)
        self.partial_text = partial_text


class MissingKeyError(ModelError):
    """No key is configured, or the key command failed (nothing was sent)."""


class ConfigurationError(ModelError):
    """A setting makes the request impossible (nothing was sent)."""


class InsecureURLError(ConfigurationError):
    """Refused before connecting: a key must not travel over plain http."""


class ToolsNotSupportedError(ModelError):
    """The backend cannot call tools: features that need them refuse up front."""


class APIStatusError(ModelError):
    status_code: int = 0

    def __init__(self, message: str, *, status_code: int | None = None,
                 error_type: str = "", request_id: str | None = None,
                 retry_after: float | None = None, partial_text: str = "") -> None:
        super().__init__(message, partial_text=partial_text)
        if status_code is not None:
            self.status_code = status_code
        self.error_type = error_type
        self.request_id = request_id
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class RequestTooLargeError(APIStatusError):
    status_code = 413


class RateLimitError(APIStatusError):
    status_code = 429
    retryable = True


class ServerError(APIStatusError):
    status_code = 500
    retryable = True


class OverloadedError(APIStatusError):
    status_code = 529
    retryable = True


class APIConnectionError(ModelError):
    retryable = True


class APITimeoutError(APIConnectionError):
    def __init__(self, message: str, *, phase: str, partial_text: str = "") -> None:
        super().__init__(message, partial_text=partial_text)
        #: "connect", "first_byte" or "event_gap"
        self.phase = phase
        # Only a connect timeout is safe to retry: a slow first byte means the server is busy
        # working, and asking again would double the wait.
        self.retryable = phase == "connect"


class StreamError(ModelError):
    pass


class BrokenStreamError(StreamError):
    pass


class StreamErrorEvent(StreamError):
    def __init__(self, message: str, *, error_type: str, partial_text: str = "") -> None:
        super().__init__(message, partial_text=partial_text)
        self.error_type = error_type
        # An overloaded/server error before any text is as safe to retry as a 529.
        self.retryable = not partial_text and any(
            word in error_type for word in ("overloaded", "api_error", "server"))


class MalformedEventError(StreamError):
    pass


def status_class(status: int) -> type[APIStatusError]:
    """The error class of an HTTP error status."""
    if status == 503:
        return OverloadedError
    for cls in (BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError,
                RequestTooLargeError, RateLimitError, ServerError, OverloadedError):
        if cls.status_code == status:
            return cls
    return ServerError if status >= 500 else BadRequestError
