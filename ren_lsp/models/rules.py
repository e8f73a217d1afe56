"""The rules every backend shares: where requests may go, how long they may take, when they
are retried. Knows no wire format."""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import random
import re
import time
from collections.abc import Awaitable, Mapping
from urllib.parse import urlsplit

import attrs

from ren_lsp.models import errors


@attrs.frozen
class Timeouts:
    """Seconds. ``first_byte``: until the reply starts; ``event_gap``: between two reads."""

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

    def delay(self, attempt: int, error: errors.ModelError) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up."""
        if attempt >= self.max_retries:
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_max else None
        # Exponential backoff with jitter, so many clients do not retry in lockstep.
        ceiling = min(self.backoff_max, self.backoff_base * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """``retry-after`` in seconds: delta-seconds or an HTTP date (RFC 9110); None if absent."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, service: str = "the Ren API") -> str:
    """The normalised base URL, or a ConfigurationError before anything is sent."""
    from ren_lsp.settings_rules import URL_PATTERN  # the setting's own check, also here

    parts = urlsplit(base_url)
    if (parts.scheme not in {"http", "https"} or not parts.hostname
            or not re.fullmatch(URL_PATTERN, base_url)):
        raise errors.ConfigurationError(
            f"The base URL of {service} '{base_url}' is not an http(s) URL with a host: fix "
            "the baseUrl setting (REN_BASE_URL, or baseUrl in the config file). Nothing was "
            "sent.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise errors.InsecureURLError(
            f"Refusing to send requests over plain http to {parts.hostname}: use an https:// "
            "baseUrl (plain http is allowed only to loopback addresses).")
    return base_url.rstrip("/")


class Watchdog:
    """The first-byte and gap timeouts of a stream's reads, at the cost of two clock reads per
    network read: one timer checks, when it fires, how long the current read has waited, and
    re-arms itself; setting up a timeout for every read cost more than decoding the read.
    Only time spent waiting in a read counts (not the consumer's time between events)."""

    def __init__(self, first_byte: float) -> None:
        self.limit, self.phase = first_byte, "first_byte"
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._since: float | None = None  # when the read in progress began
        self._fired = False
        self._timer: asyncio.TimerHandle | None = None

    async def read(self, awaitable: Awaitable[bytes]) -> bytes:
        """Await one read; TimeoutError once it has waited ``limit`` seconds."""
        assert self._task is not None
        self._since = now = self._loop.time()
        if self._timer is None:
            self._timer = self._loop.call_at(now + self.limit, self._check)
        cancelling = self._task.cancelling()
        try:
            return await awaitable
        except asyncio.CancelledError:
            if self._fired:
                self._fired = False
                if self._task.uncancel() <= cancelling:
                    raise TimeoutError from None
            raise
        finally:
            self._since = None

    def _check(self) -> None:
        now = self._loop.time()
        since = self._since
        if since is not None and now - since >= self.limit and self._task is not None:
            self._fired, self._timer = True, None
            self._task.cancel()
        else:
            self._timer = self._loop.call_at((since if since is not None else now)
                                             + self.limit, self._check)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
