"""The Ren API client: a request in, typed events out; retries, timeouts, cancellation, the key.

Usage::

    async with AstraClient(base_url=..., api_key=...) as client:
        async with client.stream(MessageRequest.ask("Explain this")) as stream:
            async for event in stream:
                ...
        # stream.text holds everything that arrived, even after an error

Leaving the ``async with`` (or cancelling the task that reads) closes the HTTP response at
once, which stops generation on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
import httpx
from httpx_sse import EventSource, SSEError

from ren_lsp.astra import errors, wire
from ren_lsp.astra.events import Event, TextDelta
from ren_lsp.astra.wire import Message, MessageRequest

if TYPE_CHECKING:
    from ren_lsp.config import Settings

log = logging.getLogger(__name__)

KeySource = str | Callable[[], str | None] | None


@attrs.frozen
class Timeouts:
    """Seconds. ``first_byte``: until the reply starts; ``event_gap``: between two events."""

    connect: float = 10.0
    first_byte: float = 60.0
    event_gap: float = 60.0


@attrs.frozen
class RetryPolicy:
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    #: a retry-after longer than this is not waited for: the error is reported instead
    retry_after_max: float = 60.0

    def delay(self, attempt: int, error: errors.AstraError) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up."""
        if attempt >= self.max_retries:
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_max else None
        # Exponential backoff with jitter, so many clients do not retry in lockstep.
        ceiling = min(self.backoff_max, self.backoff_base * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)


def is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """The normalised base URL, or InsecureURLError/AstraError before anything is sent."""
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise errors.AstraError(
            f"The Ren API base URL '{base_url}' is not an http(s) URL with a host: fix the "
            "baseUrl setting (default https://api.ren.ai)."
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise errors.InsecureURLError(
            f"Refusing to send the API key over plain http to {parts.hostname}: use an "
            "https:// baseUrl (plain http is allowed only to loopback addresses)."
        )
    return base_url.rstrip("/")


class AstraClient:
    """Talks to the Ren API. Holds one connection pool; close it with ``aclose``."""

    def __init__(
        self,
        *,
        base_url: str = "https://api.ren.ai",
        api_key: KeySource = None,
        model: str = "astra",
        max_tokens: int = 4096,
        temperature: float | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._http = http_client
        self._owns_http = http_client is None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> AstraClient:
        """A client configured from the settings model; the key is resolved lazily."""
        from ren_lsp.config import resolve_api_key

        kwargs: dict[str, Any] = dict(
            base_url=settings.base_url,
            api_key=lambda: resolve_api_key(settings),
            model=settings.model,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            timeouts=Timeouts(settings.connect_timeout, settings.first_byte_timeout,
                              settings.event_timeout),
            retry=RetryPolicy(max_retries=settings.max_retries),
        )
        kwargs.update(overrides)
        return cls(**kwargs)

    def __repr__(self) -> str:
        # The key is never part of a repr: it would end up in logs and tracebacks.
        key = "***" if self._api_key is not None else None
        return f"AstraClient(base_url={self.base_url!r}, model={self.model!r}, api_key={key!r})"

    async def __aenter__(self) -> AstraClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    # -- requests ---------------------------------------------------------------------------

    def stream(self, request: MessageRequest) -> MessageStream:
        """Stream a reply. Use as ``async with client.stream(req) as s: async for ev in s``."""
        return MessageStream(self, request)

    async def create(self, request: MessageRequest) -> Message:
        """A complete reply, not streamed (retried like a stream that has not started)."""
        attempt = 0
        while True:
            try:
                response = await self._send(request, stream=False)
                try:
                    async with asyncio.timeout(self.timeouts.event_gap):
                        body = await response.aread()
                except TimeoutError:
                    raise errors.APITimeoutError(
                        f"Astra's reply stalled for {self.timeouts.event_gap:g} s: try again, "
                        "or raise eventTimeout.", phase="event_gap") from None
                finally:
                    await response.aclose()
                return wire.parse_message(body)
            except errors.AstraError as error:
                delay = self.retry.delay(attempt, error) if error.retryable else None
                if delay is None:
                    raise
                attempt += 1
                log.info("retrying in %.2f s (%s)", delay, type(error).__name__)
                await asyncio.sleep(delay)

    # -- the HTTP part ----------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            host = urlsplit(self.base_url).hostname or ""
            t = self.timeouts
            self._http = httpx.AsyncClient(
                # The precise first-byte and gap timeouts are enforced per event by the
                # stream; httpx's read timeout is only a backstop.
                timeout=httpx.Timeout(connect=t.connect, read=max(t.first_byte, t.event_gap) + 5,
                                      write=t.connect, pool=t.connect),
                # Proxies from the environment, except for a local emulator.
                trust_env=not is_loopback(host),
            )
        return self._http

    async def _key(self) -> str:
        source = self._api_key
        # A key command (a password manager) may take seconds: never on the event loop.
        key = await asyncio.to_thread(source) if callable(source) else source
        if not key:
            raise errors.MissingKeyError()
        bad = next((i for i, c in enumerate(key) if not (c.isascii() and c.isprintable())
                    or c.isspace()), None)
        if bad is not None:
            # Said without the key: an HTTP library's error would quote the whole header.
            raise errors.MissingKeyError(
                f"The Ren API key has a character that cannot be sent (position {bad + 1} of "
                f"{len(key)}: a space, an invisible or a non-ASCII character): copy the key "
                f"again. {errors.KEY_HELP[0].upper()}{errors.KEY_HELP[1:]}.")
        return key

    async def _send(self, request: MessageRequest, *, stream: bool) -> httpx.Response:
        """Send and wait for the response headers; error statuses are raised as errors."""
        base = check_base_url(self.base_url)
        body = wire.request_body(request, model=self.model, stream=stream)
        body.setdefault("max_tokens", self.max_tokens)
        if self.temperature is not None:
            body.setdefault("temperature", self.temperature)
        http = self._client()
        req = http.build_request("POST", base + wire.MESSAGES_PATH, json=body,
                                 headers=wire.request_headers(await self._key(), stream=stream))
        try:
            async with asyncio.timeout(self.timeouts.first_byte):
                response = await http.send(req, stream=True)
        except TimeoutError:
            raise errors.APITimeoutError(
                f"Astra did not start answering within {self.timeouts.first_byte:g} s: try "
                "again, or raise firstByteTimeout.", phase="first_byte") from None
        except httpx.ConnectTimeout:
            raise errors.APITimeoutError(
                f"Connecting to the Ren API at {base} timed out after "
                f"{self.timeouts.connect:g} s: check your network or proxy.",
                phase="connect") from None
        except httpx.TransportError as exc:
            raise errors.APIConnectionError(
                f"Could not reach the Ren API at {base} ({type(exc).__name__}: {exc}): check "
                "your network, proxy settings and the baseUrl setting.") from None
        if response.status_code >= 400:
            try:
                async with asyncio.timeout(self.timeouts.event_gap):
                    data = await response.aread()
            except (TimeoutError, httpx.TransportError):
                data = b""
            finally:
                await response.aclose()
            raise wire.error_from_response(response.status_code, data, response.headers,
                                           base_url=base, model=self.model)
        return response


class MessageStream:
    """One streamed reply: an async iterator of events that also keeps what arrived.

    ``text`` holds all text so far, also after an error; errors carry it as ``partial_text``.
    Retries happen only before the first text delta: once text has streamed, a failure is
    reported with the partial text rather than silently asking again.
    """

    def __init__(self, client: AstraClient, request: MessageRequest) -> None:
        self._client = client
        self._request = request
        self._decoder = wire.EventDecoder()
        self._response: httpx.Response | None = None
        self._events: AsyncGenerator[Event, None] | None = None
        self.retries = 0

    @property
    def text(self) -> str:
        return self._decoder.text

    @property
    def done(self) -> bool:
        return self._decoder.done

    def message(self) -> Message:
        """The reply as it stands (complete once the stream is done)."""
        return self._decoder.message()

    async def __aenter__(self) -> MessageStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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

    async def until_done(self) -> Message:
        """Consume the whole stream and return the message."""
        async for _ in self:
            pass
        return self.message()

    async def _run(self) -> AsyncGenerator[Event, None]:
        attempt = 0
        while True:
            try:
                async with contextlib.aclosing(self._attempt()) as events:
                    async for event in events:
                        yield event
                return
            except errors.AstraError as error:
                error.partial_text = self.text
                if self.text or not error.retryable:
                    raise
                delay = self._client.retry.delay(attempt, error)
                if delay is None:
                    raise
                attempt += 1
                self.retries = attempt
                log.info("retrying in %.2f s (%s)", delay, type(error).__name__)
                self._decoder = wire.EventDecoder()
                await asyncio.sleep(delay)
            finally:
                await self._close_response()

    async def _attempt(self) -> AsyncGenerator[Event, None]:
        timeouts = self._client.timeouts
        self._response = await self._client._send(self._request, stream=True)
        source = EventSource(self._response)
        sse_events = source.aiter_sse()
        timeout, phase = timeouts.first_byte, "first_byte"
        decoder = self._decoder
        try:
            while True:
                try:
                    async with asyncio.timeout(timeout):
                        sse = await anext(sse_events)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    what = ("did not start answering" if phase == "first_byte"
                            else "stopped sending")
                    setting = "firstByteTimeout" if phase == "first_byte" else "eventTimeout"
                    raise errors.APITimeoutError(
                        f"Astra {what} for {timeout:g} s; the answer so far is kept. Try again, "
                        f"or raise {setting}.", phase=phase, partial_text=decoder.text) from None
                except SSEError as exc:
                    raise errors.MalformedEventError(
                        f"The Ren API did not answer with an event stream ({exc}): check the "
                        "baseUrl setting.") from None
                except httpx.TransportError as exc:
                    raise self._broken(f"the connection failed ({type(exc).__name__})") from None
                timeout, phase = timeouts.event_gap, "event_gap"
                event = decoder.feed(sse.event, sse.data)
                if event is not None:
                    yield event
                if decoder.done:
                    return
        finally:
            await sse_events.aclose()
        raise self._broken("the connection closed early")

    def _broken(self, why: str) -> errors.BrokenStreamError:
        error = errors.BrokenStreamError(
            f"Astra's answer was cut off: {why} before it was complete. The answer so far is "
            "kept; try again.", partial_text=self.text)
        # Before any text, a broken connection is as safe to retry as a refused one.
        error.retryable = not self.text
        return error


async def collect(stream: MessageStream, on_text: Callable[[str], object] | None = None) -> str:
    """Read a stream to the end, calling ``on_text`` with each text delta; returns the text."""
    async for event in stream:
        if on_text is not None and isinstance(event, TextDelta):
            on_text(event.text)
    return stream.text
