"""The emulator's aiohttp application: every dialect's route, the control endpoints, a health check.

`POST /v1/messages` (ren and anthropic), `POST /v1/chat/completions` (openai) and
`POST /api/chat` (ollama) share one pipeline: take the next scripted fault, record the request,
refuse it or convert it to the internal request, plan the reply, and encode it in the dialect.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ren_lsp.emulator.conversation import Step, parse_steps
from ren_lsp.emulator.dialects import (
    MODEL,
    Dialect,
    OllamaDialect,
    OpenAIDialect,
    Refusal,
    RenDialect,
    messages_dialect,
)
from ren_lsp.emulator.faults import Fault, RecordedRequest
from ren_lsp.emulator.stream import client_gone, plan_reply, sleep_unless_gone, write_stream

__all__ = ["MODEL", "State", "build_app"]

log = logging.getLogger(__name__)

_REN, _OPENAI, _OLLAMA = RenDialect(), OpenAIDialect(), OllamaDialect()
# Big enough for any context a client would send; 413 is something a test scripts, not a limit.
_MAX_BODY = 64 * 1024 * 1024
# Headers whose values are secrets: recorded as a mask, never as sent.
_SECRET_HEADERS = {"authorization": "Bearer ***", "x-api-key": "***"}


class State:
    """What the emulator holds between requests: its key, its script, its conversation and its
    request log."""

    def __init__(self, api_key: str | None) -> None:
        self._api_key = api_key
        self.script: deque[Fault] = deque()
        #: the scripted conversation (not consumed: each request picks its step)
        self.conversation: list[Step] = []
        self.requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        # Set by Emulator.stop(): replies that are pausing (delay, trickle) end at once.
        self.stopping = False

    def __repr__(self) -> str:  # never show the key, not even in a debugger or a traceback
        return f"<State requests={len(self.requests)} scripted={len(self.script)}>"

    def next_id(self, prefix: str, sep: str = "_") -> str:
        """A fresh, readable id such as `req_emu_000001` (unique within this emulator)."""
        return f"{prefix}{sep}emu_{next(self._ids):06d}"

    @property
    def key_configured(self) -> bool:
        """Whether one key was configured (else any key passes, and some dialects need none)."""
        return self._api_key is not None

    def key_matches(self, given: str) -> bool:
        """Whether `given` is acceptable: any non-empty key, or exactly the configured one."""
        if not given:
            return False
        if self._api_key is None:
            return True
        return hmac.compare_digest(given.encode(), self._api_key.encode())

    def reset(self) -> None:
        """Forget the script, the conversation and the request log."""
        self.script.clear()
        self.conversation = []
        self.requests.clear()
        self.changed()

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


def _num_ctx(body: Any) -> int | None:
    options = body.get("options") if isinstance(body, dict) else None
    value = options.get("num_ctx") if isinstance(options, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
            "POST /v1/messages, /v1/chat/completions and /api/chat (Ren emulator)"
        )
        refusal = Refusal(status=404, message=message)
        return _REN.error_response(refusal, self.state.next_id("req"), None)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        return await self._model_request(request, messages_dialect(request.headers))

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        return await self._model_request(request, _OPENAI)

    async def ollama_chat(self, request: web.Request) -> web.StreamResponse:
        return await self._model_request(request, _OLLAMA)

    async def _model_request(self, request: web.Request, dialect: Dialect) -> web.StreamResponse:
        state = self.state
        fault = state.script.popleft() if state.script else None
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
            parse_error = None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            body, parse_error = None, str(exc)
        record = RecordedRequest(
            path=request.path,
            dialect=dialect.name,
            body=body if isinstance(body, dict) else None,
            headers=_masked(request.headers),
            stream=dialect.streams(body),
            fault=fault,
            num_ctx=_num_ctx(body) if dialect is _OLLAMA else None,
        )
        state.requests.append(record)
        state.changed()
        try:
            response = await self._answer(request, dialect, record, fault, body, parse_error)
        finally:
            state.changed()
        log.debug(
            "POST %s (%s) -> %s (%d events)",
            request.path,
            dialect.name,
            record.status,
            record.events_sent,
        )
        return response

    async def _answer(
        self,
        request: web.Request,
        dialect: Dialect,
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
        refusal = self._refusal(request, dialect, fault, body, parse_error)
        if refusal is not None:
            retry_after = fault.retry_after if fault is not None and fault.status else None
            response = dialect.error_response(refusal, request_id, retry_after)
            return await self._send(request, record, response)
        internal = dialect.to_internal(body)
        record.internal = internal
        reply = plan_reply(
            internal,
            fault,
            self.state.next_id(*dialect.message_prefix),
            self.state.next_id(*dialect.tool_prefix),
            self.state.conversation,
        )
        headers = dialect.reply_headers(request_id)
        if record.stream:
            encoded = dialect.stream(reply, body, fault or Fault())
            return await write_stream(request, record, encoded, fault, headers, self._stopping)
        response = web.json_response(dialect.message(reply, body), headers=headers)
        return await self._send(request, record, response)

    def _refusal(
        self,
        request: web.Request,
        dialect: Dialect,
        fault: Fault | None,
        body: Any,
        parse_error: str | None,
    ) -> Refusal | None:
        """Why to refuse the request (in no dialect's words yet), or None to answer it."""
        if fault is not None and fault.status is not None:
            # A scripted status comes first: it stands for a server that refuses before looking.
            return dialect.scripted(fault)
        refusal = dialect.authenticate(request.headers, self.state)
        if refusal is not None:
            return refusal
        if parse_error is not None:
            message = f"body: not valid JSON: {parse_error} (Ren emulator)"
            return Refusal(status=400, message=message, error_type="invalid_request_error")
        refusal = dialect.check(body)
        if refusal is not None:
            return refusal
        if body["model"] != MODEL:
            return dialect.unknown_model(body["model"])
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
            record.finished_at = time.monotonic()
        except ConnectionError:
            record.hung_up = True
        return response

    def _control_error(self, message: str) -> web.Response:
        refusal = Refusal(status=400, message=f"{message} (Ren emulator)")
        return _REN.error_response(refusal, self.state.next_id("req"), None)

    async def script(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            items = data if isinstance(data, list) else [data]
            faults = [Fault.from_dict(item) for item in items]
        except (ValueError, TypeError) as exc:
            return self._control_error(f"script: {exc}")
        self.state.script.extend(faults)
        return web.json_response({"queued": len(self.state.script)})

    async def set_conversation(self, request: web.Request) -> web.Response:
        try:
            steps = parse_steps(await request.json())
        except (ValueError, TypeError) as exc:
            return self._control_error(f"conversation: {exc}")
        self.state.conversation = steps
        return web.json_response({"steps": len(steps)})

    async def get_conversation(self, _request: web.Request) -> web.Response:
        return web.json_response([step.to_dict() for step in self.state.conversation])

    async def requests(self, _request: web.Request) -> web.Response:
        return web.json_response([record.to_dict() for record in self.state.requests])

    async def reset(self, _request: web.Request) -> web.Response:
        self.state.reset()
        return web.json_response({"ok": True})


def build_app(state: State) -> web.Application:
    """The aiohttp application serving `state`."""
    handlers = _Handlers(state)
    app = web.Application(client_max_size=_MAX_BODY)
    app.router.add_post("/v1/messages", handlers.messages)
    app.router.add_post("/v1/chat/completions", handlers.chat_completions)
    app.router.add_post("/api/chat", handlers.ollama_chat)
    app.router.add_get("/", handlers.health)
    app.router.add_get("/health", handlers.health)
    app.router.add_post("/_emulator/script", handlers.script)
    app.router.add_get("/_emulator/requests", handlers.requests)
    app.router.add_post("/_emulator/reset", handlers.reset)
    app.router.add_post("/_emulator/conversation", handlers.set_conversation)
    app.router.add_get("/_emulator/conversation", handlers.get_conversation)
    # Everything else gets the API's own 404 body rather than aiohttp's plain-text page.
    app.router.add_route("*", "/{tail:.*}", handlers.not_found)
    return app
