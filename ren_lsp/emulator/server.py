"""`Emulator`: the local Ren API on a loopback port, inside the caller's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from aiohttp import web

from ren_lsp.emulator.app import State, build_app
from ren_lsp.emulator.conversation import Step, parse_steps
from ren_lsp.emulator.faults import Fault, RecordedRequest

__all__ = ["Emulator", "serve_forever"]


class Emulator:
    """A model API stand-in with canned, deterministic replies and scriptable faults.

    One port serves every dialect: `POST /v1/messages` (ren: `Authorization: Bearer`; anthropic:
    `x-api-key` and `anthropic-version`), `POST /v1/chat/completions` (openai) and
    `POST /api/chat` (ollama, no key). `api_key=None` accepts any non-empty key, and no key at
    all where a local server would (openai, anthropic, ollama); a string accepts only that key
    (ollama still needs none). Port 0 picks a free port; `base_url` tells which once started.
    """

    def __init__(self, api_key: str | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self._state = State(api_key)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    def __repr__(self) -> str:  # the key stays out of reprs (pytest prints them on failure)
        return f"<Emulator {self._base_url or 'not started'}>"

    @property
    def base_url(self) -> str:
        """`http://<host>:<port>`, without a trailing slash (RuntimeError before `start`)."""
        if self._base_url is None:
            raise RuntimeError("the Ren emulator is not started")
        return self._base_url

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every model request so far, any dialect, in arrival order (updated as replies go)."""
        return self._state.requests

    async def start(self) -> None:
        """Bind the port and start serving (in the running event loop)."""
        if self._runner is not None:
            raise RuntimeError("the Ren emulator is already started")
        self._state.stopping = False
        # No access log: the emulator must stay quiet; tests read `requests` instead.
        # A short shutdown grace: replies notice `stopping` within 20 ms; nothing needs longer.
        runner = web.AppRunner(
            build_app(self._state), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop serving and close open connections (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            self._state.stopping = True
            try:
                await runner.cleanup()
            finally:
                self._state.stopping = False
        self._base_url = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def script(self, *faults: Fault) -> None:
        """Queue faults: the next model requests (any dialect) take one each, in order."""
        self._state.script.extend(faults)

    def converse(self, steps: Iterable[Step | dict[str, Any]]) -> None:
        """Set the scripted conversation (replacing any), kept until `reset`.

        Each step is a `Step` or its JSON form: `{"tool": name, "input": {...}}`,
        `{"text": "..."}` (with `{last_result}` / `{last_error}`), or a tool step with
        `"unless_error": step`. Each request is answered by the step whose index is the number
        of assistant turns in it (see `ren_lsp.emulator.conversation`); faults still apply.
        Raises ValueError naming the step that is wrong.
        """
        self._state.conversation = parse_steps(list(steps))

    @property
    def conversation(self) -> tuple[Step, ...]:
        """The scripted conversation (empty when none is set)."""
        return tuple(self._state.conversation)

    def reset(self) -> None:
        """Forget the script, the conversation and the request log."""
        self._state.reset()

    # `timeout` parameters (ruff ASYNC109) are the agreed API the client tests already use.
    async def wait_for_requests(self, n: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until at least `n` requests have arrived (TimeoutError after `timeout` s)."""
        await self._state.wait_until(
            lambda: len(self.requests) >= n, timeout, f"{n} request(s), got {len(self.requests)}"
        )

    async def wait_for_hangup(
        self,
        index: int = -1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RecordedRequest:
        """Wait until request `index` (default: the latest) was abandoned by its client."""

        def hung_up() -> bool:
            try:
                return self.requests[index].hung_up
            except IndexError:
                return False

        await self._state.wait_until(hung_up, timeout, f"request {index} to be hung up")
        return self.requests[index]


async def serve_forever(host: str = "127.0.0.1", port: int = 0, api_key: str | None = None) -> None:
    """Run an emulator until cancelled, SIGINT or SIGTERM (for `ren-lsp emulator`).

    The first line on stdout is the base URL, flushed at once, so a parent process can read it
    and connect; nothing else goes to stdout.
    """
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows' event loop; there KeyboardInterrupt/cancellation still work.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stopping.set)
            handled.append(sig)
    try:
        async with Emulator(api_key=api_key, host=host, port=port) as emulator:
            sys.stdout.write(emulator.base_url + "\n")
            sys.stdout.flush()
            sys.stderr.write(
                f"Ren emulator (canned replies, not AI) serving {emulator.base_url}: "
                "/v1/messages (ren, anthropic), /v1/chat/completions (openai), /api/chat "
                "(ollama); Ctrl-C stops it\n"
            )
            sys.stderr.flush()
            await stopping.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
