"""The JSON-RPC side of the server: every request answered, nothing internal sent out, every
request the server makes bounded in time.

pygls structures a message while decoding it, and a message that fails (a negative line, a
missing ``textDocument``) is logged and dropped: the editor waits forever. ``RenProtocol``
decodes first and structures after, so it knows the request's id and answers
``InvalidParams`` naming the field. It also answers requests before ``initialize``
(``ServerNotInitialized``) and after ``shutdown`` (``InvalidRequest``), as LSP says, and keeps
tracebacks in the server's log: pygls puts them in ``error.data``.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import re
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage

log = logging.getLogger(__name__)

#: Environment variable: seconds the editor has to answer a request the server makes
#: (read once, when the server starts; tests make it small instead of waiting 30 s).
TIMEOUT_ENV = "REN_LSP_EDITOR_TIMEOUT"
#: The default: editors answer applyEdit, showDocument, progress/create in milliseconds.
EDITOR_TIMEOUT = 30.0
#: Requests a person answers (a confirmation) get this many times as long.
PERSON_FACTOR = 10
PERSON_ANSWERS = frozenset({types.WINDOW_SHOW_MESSAGE_REQUEST})

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_NOT_INITIALIZED = -32002


class EditorTimeout(JsonRpcException):
    """The editor did not answer a request of the server in time."""

    def __init__(self, method: str, seconds: float) -> None:
        super().__init__(f"the editor did not answer within {seconds:g} s ({method})")
        self.seconds = seconds


class EditorGone(JsonRpcException):
    """The connection to the editor is closed (``exit``, or the stream ended)."""

    def __init__(self) -> None:
        super().__init__("the connection to the editor is closed")


class Abandoned(JsonRpcException):
    """The session the request was for was cancelled before the editor answered."""

    def __init__(self) -> None:
        super().__init__("the session was cancelled before the editor answered")


#: Whom the requests sent from this context are for (a session's id, set in its task and so
#: inherited by the tasks it starts): cancelling a session abandons them together.
REQUESTS_FOR: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ren_requests_for", default=None)


class BadAnswer(JsonRpcException):
    """The editor's answer to a request of the server did not parse."""


def editor_timeout(env: dict[str, str] | os._Environ[str] | None = None) -> float:
    """The seconds from ``REN_LSP_EDITOR_TIMEOUT``, else the default (a bad value too)."""
    raw = (os.environ if env is None else env).get(TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw else EDITOR_TIMEOUT
    except ValueError:
        value = EDITOR_TIMEOUT
    if not 0 < value <= 3600:
        log.warning("%s=%r is not a number of seconds in (0, 3600]; using %g", TIMEOUT_ENV, raw,
                    EDITOR_TIMEOUT)
        value = EDITOR_TIMEOUT
    return value


def describe(exc: BaseException) -> str:
    """Where a message failed to structure, in the wire's names: ``params.position: …``."""
    import cattrs
    from cattrs.v import format_exception

    def fmt(error: BaseException, cls: Any) -> str:
        if isinstance(error, ValueError) and not isinstance(error, cattrs.BaseValidationError):
            return str(error).rstrip(".")  # lsprotocol's range checks say what was wrong
        return format_exception(error, cls)

    if not isinstance(exc, cattrs.BaseValidationError):
        return f"{type(exc).__name__}"
    problems = []
    for line in cattrs.transform_error(exc, format_exception=fmt)[:3]:
        what, _, where = line.rpartition(" @ $")
        where = ".".join(_camel(part) for part in where.lstrip(".").split("."))
        problems.append(f"{where or 'the message'}: {what}")
    return "; ".join(problems)


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _valid_id(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _short_internal(error: types.ResponseError) -> types.ResponseError:
    """An internal error as the client sees it: which exception, never the traceback."""
    match = re.match(r"[A-Za-z_][\w.]*", error.message or "")
    name = f" ({match.group(0)})" if match and match.group(0) != "Internal" else ""
    return types.ResponseError(code=INTERNAL_ERROR, message=(
        f"ren-lsp internal error{name}; the details are in the server's log"))


class RenProtocol(LanguageServerProtocol):
    """pygls's protocol, answering every request and bounding every request it sends."""

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        self.timeout = editor_timeout()
        #: set by ``exit``: the code the process ends with
        self.exit_code: int | None = None
        #: set by ``stdio``, which reads the frames itself (TCP is still pygls's loop)
        self.serving_stdio = False
        self._initialize_received = False
        self._closed = False
        #: ids of the requests we sent that wait for an answer
        self._ours: set[Any] = set()
        #: the requests waiting for each owner (``REQUESTS_FOR``), and the owners abandoned
        self._owned: dict[str, set[Any]] = {}
        self._abandoned: set[str] = set()
        #: called when writing to the editor fails (it closed the stream)
        self.on_lost: Callable[[], None] | None = None

    # -- messages in ----------------------------------------------------------------------

    def handle_body(self, body: bytes) -> None:
        """One message body from the stream: decoded, checked, answered or dispatched."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            log.warning("a message that is not JSON (%s); answered with a parse error",
                        type(exc).__name__)
            self._reply_error(None, PARSE_ERROR, "Parse error: the message is not JSON")
            return
        try:
            self.handle_json(data)
        except Exception:
            log.exception("handling a message failed")

    def handle_json(self, data: Any) -> None:
        """A decoded message: a request gets exactly one answer, whatever is wrong with it."""
        if not isinstance(data, dict):
            self._reply_error(None, INVALID_REQUEST,
                              "Invalid request: a message is a JSON object (no batches)")
            return
        if "method" not in data:
            if "id" in data:
                self._handle_answer(data)
            else:
                log.warning("a message that is not a request, notification or response")
            return
        if "id" in data:
            self._handle_request_data(data)
        else:
            self._handle_notification_data(data)

    def _handle_request_data(self, data: dict[str, Any]) -> None:
        msg_id, method = data["id"], data["method"]
        if not _valid_id(msg_id):
            self._reply_error(None, INVALID_REQUEST,
                              "Invalid request: the id must be a number or a string")
            return
        problem = None
        if data.get("jsonrpc") != "2.0":
            problem = (INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0"')
        elif not isinstance(method, str):
            problem = (INVALID_REQUEST, "Invalid request: the method must be a string")
        elif self._shutdown:
            problem = (INVALID_REQUEST, "Invalid request: the server is shutting down")
        elif method == types.INITIALIZE and self._initialize_received:
            problem = (INVALID_REQUEST, "Invalid request: initialize was already received")
        elif method != types.INITIALIZE and not self._initialize_received:
            problem = (SERVER_NOT_INITIALIZED,
                       f"The server is not initialized: send initialize before {method}")
        if problem is not None:
            self._reply_error(msg_id, *problem)
            return
        cls = self.get_message_type(method) or JsonRPCRequestMessage
        params = data.get("params")
        if cls is not JsonRPCRequestMessage and not isinstance(params, dict | None):
            # Every LSP method takes an object (or nothing); cattrs would read a list as one.
            self._reply_error(msg_id, INVALID_PARAMS, "Invalid params: params: expected an "
                              f"object, got {type(params).__name__}")
            return
        try:
            message = self._converter.structure(data, cls)
        except Exception as exc:
            reason = describe(exc)
            log.info("request %r %s: invalid params: %s", msg_id, method, reason)
            self._reply_error(msg_id, INVALID_PARAMS, f"Invalid params: {reason}")
            return
        if method == types.INITIALIZE:
            self._initialize_received = True
        self.handle_message(message)

    def _handle_notification_data(self, data: dict[str, Any]) -> None:
        method = data["method"]
        if data.get("jsonrpc") != "2.0" or not isinstance(method, str):
            log.warning("a notification that is not JSON-RPC 2.0; ignored")
            return
        if not self._initialize_received and method != types.EXIT:
            log.info("notification %s before initialize; ignored", method)
            return
        cls = self.get_message_type(method) or JsonRPCNotification
        try:
            message = self._converter.structure(data, cls)
        except Exception as exc:
            log.warning("notification %s has invalid params (%s); ignored", method,
                        describe(exc))
            return
        self.handle_message(message)

    def _handle_answer(self, data: dict[str, Any]) -> None:
        """A response to a request of ours; one that does not parse fails that request (it
        is not dropped, which would leave the session waiting)."""
        msg_id = data["id"]
        future = self._request_futures.get(msg_id) if _valid_id(msg_id) else None
        result_type = self._result_types.pop(msg_id, None) if future is not None else None
        if future is None:
            log.warning("an answer to no request of ours (id %r); ignored", msg_id)
            return
        if future.done():  # pygls's shutdown cancels our requests too: a late answer
            self._request_futures.pop(msg_id, None)
            return
        if "error" in data:
            try:
                error = self._converter.structure(data, types.ResponseErrorMessage).error
            except Exception:
                error = types.ResponseError(code=INTERNAL_ERROR,
                                            message="the editor answered a malformed error")
            self._handle_response(msg_id, None, error)
            return
        try:
            result = (self._converter.structure(data, result_type).result
                      if result_type is not None else data.get("result"))
        except Exception as exc:
            self._request_futures.pop(msg_id, None)
            if not future.done():
                future.set_exception(BadAnswer(
                    f"the editor's answer did not parse: {describe(exc)}"))
            return
        self._handle_response(msg_id, result)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Any:
        """``exit``: on stdio the read loop stops and the process ends with this code (LSP: 0
        after ``shutdown``, else 1), no ``sys.exit`` from inside the event loop; on TCP (pygls's
        loop) pygls's own exit."""
        self.exit_code = 0 if self._shutdown else 1
        if not self.serving_stdio:
            yield from super().lsp_exit(*args)

    # -- messages out ---------------------------------------------------------------------

    def _reply_error(self, msg_id: Any, code: int, message: str) -> None:
        self._send_response(msg_id, error=types.ResponseError(code=code, message=message))

    def _send_response(self, msg_id: Any, result: Any | None = None,
                       error: types.ResponseError | None = None) -> None:
        if error is not None:
            if error.code == INTERNAL_ERROR:
                error = _short_internal(error)
            elif error.data is not None:  # pygls's data is a traceback; ours is never data
                error = types.ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)

    def _send_data(self, data: Any) -> None:
        if self._closed:
            return  # after exit, or once the editor is gone: nothing to say, nobody to hear
        try:
            super()._send_data(data)
        except (BrokenPipeError, ConnectionError):
            log.error("the editor closed the connection")
            self.close()
            if self.on_lost is not None:
                self.on_lost()

    def send_request(self, method: str, params: Any | None = None,
                     callback: Callable[[Any], None] | None = None,
                     msg_id: Any | None = None) -> Future[Any]:
        """pygls's request, failed with ``EditorTimeout`` if the editor does not answer in
        time (the editor is told to drop it), or at once when the editor is gone."""
        owner = REQUESTS_FOR.get()
        if self._closed or owner in self._abandoned:
            failed: Future[Any] = Future()
            failed.set_exception(EditorGone() if self._closed else Abandoned())
            return failed
        msg_id = str(uuid.uuid4()) if msg_id is None else msg_id
        future = super().send_request(method, params, callback, msg_id)
        self._ours.add(msg_id)
        owned = self._owned.setdefault(owner, set()) if owner is not None else set()
        owned.add(msg_id)

        def done(_: Future[Any]) -> None:
            self._ours.discard(msg_id)
            owned.discard(msg_id)

        future.add_done_callback(done)
        seconds = self.timeout * (PERSON_FACTOR if method in PERSON_ANSWERS else 1)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not from the event loop: pygls's own bookkeeping only
            return future
        timer = loop.call_later(seconds, self._expire, msg_id, method, seconds)
        future.add_done_callback(lambda _: timer.cancel())
        return future

    def _expire(self, msg_id: Any, method: str, seconds: float) -> None:
        if msg_id in self._request_futures:
            log.warning("the editor did not answer %s within %g s", method, seconds)
            self._fail(msg_id, EditorTimeout(method, seconds))

    def abandon(self, owner: str) -> bool:
        """Fail the requests waiting for ``owner`` with ``Abandoned`` (the editor is told to
        drop them), and its next ones at once; True if some were waiting."""
        self._abandoned.add(owner)
        waiting = [m for m in self._owned.pop(owner, set()) if m in self._request_futures]
        for msg_id in waiting:
            self._fail(msg_id, Abandoned())
        return bool(waiting)

    def forget(self, owner: str) -> None:
        """``owner`` is over: no more bookkeeping for it."""
        self._abandoned.discard(owner)
        self._owned.pop(owner, None)

    def _fail(self, msg_id: Any, error: JsonRpcException) -> None:
        future = self._request_futures.pop(msg_id, None)
        self._result_types.pop(msg_id, None)
        if future is not None and not future.done():
            future.set_exception(error)
            if not self._closed:
                self.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    def close(self) -> None:
        """The connection is over: requests of ours still waiting fail, new ones at once."""
        self._closed = True
        for msg_id in list(self._ours):
            self._fail(msg_id, EditorGone())
