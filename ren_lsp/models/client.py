"""The model client: one request in, typed events out, for every backend.

Retries, timeouts, cancellation and the key rules live here, once; the wire format is the
``Dialect``'s (one module per backend). Usage::

    async with client.stream(Request.ask("Explain this")) as stream:
        async for event in stream:
            ...
    # stream.text holds everything that arrived, even after an error

Leaving the ``async with`` (or cancelling the task that reads) closes the HTTP response at
once, which stops generation on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from ren_lsp import __version__
from ren_lsp.models import errors
from ren_lsp.models.backend import Decoder, Dialect
from ren_lsp.models.rules import (
    RetryPolicy,
    Timeouts,
    Watchdog,
    check_base_url,
    is_loopback,
    retry_after,
)
from ren_lsp.models.types import Event, Reply, Request, TextDelta

log = logging.getLogger(__name__)

KeySource = str | Callable[[], str | None] | None
USER_AGENT = f"ren-lsp/{__version__}"
__all__ = ["HTTPModelClient", "ModelClient", "ModelStream", "RetryPolicy", "Timeouts",
           "check_base_url", "collect", "is_loopback", "retry_after"]


class ModelClient(Protocol):
    """What features use: a model to stream replies from. Backends differ only in dialect."""

    backend: str
    model: str
    supports_tools: bool

    def stream(self, request: Request) -> ModelStream: ...

    async def complete(self, request: Request) -> Reply: ...

    async def aclose(self) -> None: ...


class HTTPModelClient:
    """A model behind an HTTP endpoint, spoken to in ``dialect``. Holds one connection pool."""

    def __init__(self, dialect: Dialect, *, base_url: str | None = None,
                 api_key: KeySource = None, model: str | None = None, max_tokens: int = 4096,
                 temperature: float | None = None, context_tokens: int = 6000,
                 timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
                 http_client: httpx.AsyncClient | None = None,
                 refused: str | None = None) -> None:
        self.dialect = dialect
        #: why every request fails before anything is sent (a setting that decides where code
        #: and keys go is invalid: no fallback to the default address)
        self.refused = refused
        self.backend = dialect.name
        self.base_url = (base_url or dialect.default_base_url).rstrip("/")
        self._api_key = api_key
        self.model = model or dialect.default_model or ""
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.context_tokens = context_tokens
        self.supports_tools = dialect.supports_tools
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._http = http_client
        self._owns_http = http_client is None

    def __repr__(self) -> str:
        # The key is never part of a repr: it would end up in logs and tracebacks.
        key = "***" if self._api_key is not None else None
        return (f"HTTPModelClient({self.backend}, base_url={self.base_url!r}, "
                f"model={self.model!r}, api_key={key!r})")

    async def __aenter__(self) -> HTTPModelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    def stream(self, request: Request) -> ModelStream:
        """Stream a reply: ``async with client.stream(req) as s: async for ev in s``."""
        return ModelStream(self, request)

    async def complete(self, request: Request) -> Reply:
        """The whole reply (streamed underneath, so it is retried and timed the same way)."""
        async with self.stream(request) as stream:
            return await stream.until_done()

    # -- the HTTP part ----------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            host = urlsplit(self.base_url).hostname or ""
            t = self.timeouts
            self._http = httpx.AsyncClient(
                # The precise first-byte and gap timeouts are enforced per read by the
                # stream; httpx's read timeout is only a backstop.
                timeout=httpx.Timeout(connect=t.connect, read=max(t.first_byte, t.event_gap) + 5,
                                      write=t.connect, pool=t.connect),
                # Proxies from the environment, except for a local server.
                trust_env=not is_loopback(host))
        return self._http

    async def _key(self, host: str) -> str | None:
        dialect = self.dialect
        if dialect.key_env is None:
            return None
        source = self._api_key
        # A key command (a password manager) may take seconds: never on the event loop.
        key = await asyncio.to_thread(source) if callable(source) else source
        if not key:
            if is_loopback(host) and not dialect.key_on_loopback:
                return None  # a local server needs no key
            raise errors.MissingKeyError(f"No API key is set for {dialect.service}: "
                                         f"{dialect.key_help()}.")
        bad = next((i for i, c in enumerate(key) if not (c.isascii() and c.isprintable())
                    or c.isspace()), None)
        if bad is not None:
            # Said without the key: an HTTP library's error would quote the whole header.
            raise errors.MissingKeyError(
                f"The API key for {dialect.service} has a character that cannot be sent "
                f"(position {bad + 1} of {len(key)}: a space, an invisible or a non-ASCII "
                f"character): copy the key again. {dialect.key_help().capitalize()}.")
        return key

    async def _send(self, request: Request) -> httpx.Response:
        """Send and wait for the response headers; error statuses are raised as errors."""
        dialect = self.dialect
        if self.refused:
            raise errors.ConfigurationError(self.refused)
        base = check_base_url(self.base_url, dialect.service)
        if not self.model:
            raise errors.ConfigurationError(
                f"No model is set for {dialect.service}: set the model setting (REN_MODEL) to "
                "one your server serves.")
        if request.tools and not dialect.supports_tools:
            raise errors.ToolsNotSupportedError(
                f"{dialect.service_cap} cannot call tools, which this needs: choose another "
                "provider.")
        key = await self._key(urlsplit(base).hostname or "")
        body = dialect.body(request, model=self.model, max_tokens=self.max_tokens,
                            temperature=self.temperature, context_tokens=self.context_tokens)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   **dialect.headers(key)}
        http = self._client()
        req = http.build_request("POST", base + dialect.path, json=body, headers=headers)
        speaker = dialect.speaker_cap
        try:
            async with asyncio.timeout(self.timeouts.first_byte):
                response = await http.send(req, stream=True)
        except TimeoutError:
            raise errors.APITimeoutError(
                f"{speaker} did not start answering within {self.timeouts.first_byte:g} s: try "
                "again, or raise firstByteTimeout.", phase="first_byte") from None
        except httpx.ConnectTimeout:
            raise errors.APITimeoutError(
                f"Connecting to {dialect.service} at {base} timed out after "
                f"{self.timeouts.connect:g} s: check your network or proxy.",
                phase="connect") from None
        except httpx.TransportError as exc:
            raise errors.APIConnectionError(
                f"Could not reach {dialect.service} at {base} ({type(exc).__name__}: {exc}): "
                "check your network, proxy settings and the baseUrl setting.") from None
        if response.status_code >= 400:
            try:
                async with asyncio.timeout(self.timeouts.event_gap):
                    data = await response.aread()
            except (TimeoutError, httpx.TransportError):
                data = b""
            finally:
                await response.aclose()
            raise self._status_error(response.status_code, data, response.headers, base)
        return response

    def _status_error(self, status: int, body: bytes, headers: Mapping[str, str],
                      base: str) -> errors.APIStatusError:
        error_type, detail = self.dialect.error_detail(body)
        cls = errors.status_class(status)
        message = self.dialect.status_message(cls, detail.strip(), base_url=base,
                                              model=self.model)
        return cls(f"{message} [HTTP {status}]", status_code=status, error_type=error_type,
                   request_id=headers.get("request-id") or headers.get("x-request-id"),
                   retry_after=retry_after(headers))


class ModelStream:
    """One streamed reply: an async iterator of events that also keeps what arrived.

    ``text`` holds all text so far, also after an error; errors carry it as ``partial_text``.
    Retries happen only before the first text: once text has streamed, a failure is reported
    with the partial text rather than silently asking again.
    """

    def __init__(self, client: HTTPModelClient, request: Request) -> None:
        self._client = client
        self._request = request
        self._decoder: Decoder = client.dialect.decoder()
        self._response: httpx.Response | None = None
        self._events: AsyncGenerator[Event, None] | None = None
        self.retries = 0

    @property
    def text(self) -> str:
        return self._decoder.text

    @property
    def done(self) -> bool:
        return self._decoder.done

    def reply(self) -> Reply:
        """The reply as it stands (complete once the stream is done)."""
        return self._decoder.reply()

    async def __aenter__(self) -> ModelStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: close the HTTP response at once (the server sees the hang-up)."""
        events, self._events = self._events, None
        if events is not None:
            # RuntimeError: another task is iterating; closing the response below stops it.
            with contextlib.suppress(RuntimeError):
                await events.aclose()
        await self._close_response()

    async def _close_response(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            await response.aclose()

    def __aiter__(self) -> AsyncIterator[Event]:
        if self._events is None:
            self._events = self._run()
        return self._events

    async def until_done(self) -> Reply:
        """Consume the whole stream and return the reply."""
        async for _ in self:
            pass
        return self.reply()

    async def _run(self) -> AsyncGenerator[Event, None]:
        attempt = 0
        while True:
            try:
                async with contextlib.aclosing(self._attempt()) as events:
                    async for event in events:
                        yield event
                return
            except errors.ModelError as error:
                error.partial_text = self.text
                if self.text or not error.retryable:
                    raise
                delay = self._client.retry.delay(attempt, error)
                if delay is None:
                    raise
                attempt += 1
                self.retries = attempt
                log.info("retrying in %.2f s (%s)", delay, type(error).__name__)
                self._decoder = self._client.dialect.decoder()
                await asyncio.sleep(delay)
            finally:
                await self._close_response()

    async def _attempt(self) -> AsyncGenerator[Event, None]:
        client = self._client
        timeouts, dialect = client.timeouts, client.dialect
        self._response = await client._send(self._request)
        content_type = self._response.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in dialect.content_types:
            raise errors.MalformedEventError(
                f"{dialect.service_cap} did not answer with a stream (content type "
                f"'{content_type or 'none'}'): check the baseUrl setting.")
        chunks = self._response.aiter_bytes()
        decoder = self._decoder
        watch = Watchdog(timeouts.first_byte)
        try:
            while True:
                try:
                    chunk = await watch.read(anext(chunks))
                except StopAsyncIteration:
                    # The end ends the last line (a lone CR may have been held for an LF).
                    for event in decoder.feed(b"\n"):
                        yield event
                    if decoder.done:
                        return
                    break
                except httpx.TransportError as exc:
                    raise self._broken(f"the connection failed ({type(exc).__name__})") from None
                except TimeoutError:
                    first = watch.phase == "first_byte"
                    what = "did not start answering" if first else "stopped sending"
                    setting = "firstByteTimeout" if first else "eventTimeout"
                    raise errors.APITimeoutError(
                        f"{dialect.speaker_cap} {what} for {watch.limit:g} s; the answer so far "
                        f"is kept. Try again, or raise {setting}.", phase=watch.phase,
                        partial_text=decoder.text) from None
                watch.phase, watch.limit = "event_gap", timeouts.event_gap
                for event in decoder.feed(chunk):
                    yield event
                if decoder.done:
                    return
        finally:
            watch.stop()
        raise self._broken("the connection closed early")

    def _broken(self, why: str) -> errors.BrokenStreamError:
        error = errors.BrokenStreamError(
            f"{self._client.dialect.speaker_cap}'s answer was cut off: {why} before it was "
            "complete. The answer so far is kept; try again.", partial_text=self.text)
        # Before any text, a broken connection is as safe to retry as a refused one.
        error.retryable = not self.text
        return error


async def collect(stream: ModelStream, on_text: Callable[[str], object] | None = None) -> str:
    """Read a stream to the end, calling ``on_text`` with each text delta; returns the text."""
    async for event in stream:
        if on_text is not None and isinstance(event, TextDelta):
            on_text(event.text)
    return stream.text
