"""The emulator's aiohttp application: `/v1/messages`, the control endpoints, and a health check."""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ren_lsp.emulator.faults import Fault, RecordedRequest, error_type_for
from ren_lsp.emulator.schemas import request_error
from ren_lsp.emulator.stream import client_gone, plan_reply, sleep_unless_gone, write_stream

__all__ = ["MODEL", "State", "build_app"]

log = logging.getLogger(__name__)

MODEL = "astra"
# Big enough for any context a client would send; 413 is something a test scripts, not a limit.
_MAX_BODY = 64 * 1024 * 1024
# Headers whose values are secrets: recorded as a mask, never as sent.
_SECRET_HEADERS = {"authorization": "Bearer ***", "x-api-key": "***"}


class State:
    """What the emulator holds between requests: its key, its script and its request log."""

    def __init__(self, api_key: str | None) -> None:
        self._api_key = api_key
        self.script: deque[Fault] = deque()
        self.requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        # Set by Emulator.stop(): replies that are pausing (delay, trickle) end at once.
        self.stopping = False

    def __repr__(self) -> str:  # never show the key, not even in a debugger or a traceback
        return f"<State requests={len(self.requests)} scripted={len(self.script)}>"

    def next_id(self, prefix: str) -> str:
        """A fresh, readable id such as `req_emu_000001` (unique within this emulator)."""
        return f"{prefix}_emu_{next(self._ids):06d}"

    def key_matches(self, given: str) -> bool:
        """Whether `given` is acceptable: any non-empty key, or exactly the configured one."""
        if not given:
            return False
        if self._api_key is None:
            return True
        return hmac.compare_digest(given.encode(), self._api_key.encode())

    def changed(self) -> None:
        """Wake everything waiting on the request log (a request came, or one progressed)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], seconds: float, what: str) -> None:
        """Wait until `predicate()` holds, re-checking after each change; TimeoutError after
        `seconds`, with `what` in the message."""
        try:
            async with asyncio.timeout(seconds):
                while not predicate():
                    await self._changed.wait()
        except TimeoutError:
            message = f"Ren emulator: timed out after {seconds}s waiting for {what}"
            raise TimeoutError(message) from None


def _masked(headers: Any) -> dict[str, str]:
    return {
        name.lower(): _SECRET_HEADERS.get(name.lower(), value) for name, value in headers.items()
    }


def _error(
    status: int, error_type: str, message: str, request_id: str, retry_after: float | None = None
) -> web.Response:
    headers = {"request-id": request_id}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return web.json_response(body, status=status, headers=headers)


class _Handlers:
    def __init__(self, state: State) -> None:
        self.state = state

    def _stopping(self) -> bool:
        return self.state.stopping

    async def health(self, _request: web.Request) -> web.Response:
        return web.json_response({"emulator": "ren-lsp", "ok": True})

    async def not_found(self, request: web.Request) -> web.Response:
        message = (
            f"{request.method} {request.path}: not found; the Ren emulator serves "
            "POST /v1/messages (Ren emulator)"
        )
        return _error(404, "not_found_error", message, self.state.next_id("req"))

    async def messages(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        fault = state.script.popleft() if state.script else None
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
            parse_error = None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            body, parse_error = None, str(exc)
        record = RecordedRequest(
            body=body if isinstance(body, dict) else None,
            headers=_masked(request.headers),
            stream=isinstance(body, dict) and body.get("stream") is True,
            fault=fault,
        )
        state.requests.append(record)
        state.changed()
        try:
            response = await self._answer(request, record, fault, body, parse_error)
        finally:
            state.changed()
        log.debug("POST /v1/messages -> %s (%d events)", record.status, record.events_sent)
        return response

    async def _answer(
        self,
        request: web.Request,
        record: RecordedRequest,
        fault: Fault | None,
        body: Any,
        parse_error: str | None,
    ) -> web.StreamResponse:
        request_id = self.state.next_id("req")
        # Nothing at all is sent before a scripted delay is over, not even the status line.
        delay = fault.delay if fault is not None else 0.0
        if delay > 0 and not await sleep_unless_gone(request, delay, self._stopping):
            record.hung_up = client_gone(request)
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=499)  # never reaches the client: it is gone
        error = self._refusal(request, fault, body, parse_error)
        if error is not None:
            status, error_type, message = error
            retry_after = fault.retry_after if fault is not None and fault.status else None
            response = _error(status, error_type, message, request_id, retry_after)
            return await self._send(request, record, response)
        reply = plan_reply(body, fault, self.state.next_id("msg"), self.state.next_id("toolu"))
        headers = {"request-id": request_id}
        if record.stream:
            return await write_stream(request, record, reply, fault, headers, self._stopping)
        response = web.json_response(reply.message(), headers=headers)
        return await self._send(request, record, response)

    def _refusal(
        self, request: web.Request, fault: Fault | None, body: Any, parse_error: str | None
    ) -> tuple[int, str, str] | None:
        """The (status, error type, message) to refuse the request with, or None to answer it."""
        if fault is not None and fault.status is not None:
            # A scripted status comes first: it stands for a server that refuses before looking.
            error_type = fault.error_type or error_type_for(fault.status)
            message = fault.message or f"Scripted {fault.status} {error_type} (Ren emulator)"
            return fault.status, error_type, message
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            message = "Missing API key: send 'Authorization: Bearer <key>' (Ren emulator)"
            return 401, "authentication_error", message
        if not self.state.key_matches(key.strip()):
            return 401, "authentication_error", "Invalid API key (Ren emulator)"
        if parse_error is not None:
            message = f"body: not valid JSON: {parse_error} (Ren emulator)"
            return 400, "invalid_request_error", message
        problem = request_error(body)
        if problem is not None:
            return 400, "invalid_request_error", f"{problem} (Ren emulator)"
        if body["model"] != MODEL:
            message = f"model: {body['model']!r} not found; the Ren emulator serves {MODEL!r}"
            return 404, "not_found_error", message
        return None

    async def _send(
        self, request: web.Request, record: RecordedRequest, response: web.Response
    ) -> web.StreamResponse:
        """Send a whole response now, so the record knows whether it arrived."""
        record.status = response.status
        try:
            await response.prepare(request)
            await response.write_eof()
            record.completed = True
        except ConnectionError:
            record.hung_up = True
        return response

    async def script(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            items = data if isinstance(data, list) else [data]
            faults = [Fault.from_dict(item) for item in items]
        except (ValueError, TypeError) as exc:
            message = f"script: {exc} (Ren emulator)"
            return _error(400, "invalid_request_error", message, self.state.next_id("req"))
        self.state.script.extend(faults)
        return web.json_response({"queued": len(self.state.script)})

    async def requests(self, _request: web.Request) -> web.Response:
        return web.json_response([record.to_dict() for record in self.state.requests])

    async def reset(self, _request: web.Request) -> web.Response:
        self.state.script.clear()
        self.state.requests.clear()
        self.state.changed()
        return web.json_response({"ok": True})


def build_app(state: State) -> web.Application:
    """The aiohttp application serving `state`."""
    handlers = _Handlers(state)
    app = web.Application(client_max_size=_MAX_BODY)
    app.router.add_post("/v1/messages", handlers.messages)
    app.router.add_get("/", handlers.health)
    app.router.add_get("/health", handlers.health)
    app.router.add_post("/_emulator/script", handlers.script)
    app.router.add_get("/_emulator/requests", handlers.requests)
    app.router.add_post("/_emulator/reset", handlers.reset)
    # Everything else gets the API's own 404 body rather than aiohttp's plain-text page.
    app.router.add_route("*", "/{tail:.*}", handlers.not_found)
    return app
