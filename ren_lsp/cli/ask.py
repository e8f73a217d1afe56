"""`ren-lsp ask`: one question to Astra, the answer streamed to stdout as it arrives."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import time
from typing import TextIO

from ren_lsp import prompts
from ren_lsp.config import Resolved
from ren_lsp.text import parse_lines


class Spinner:
    """A 'waiting' line on a terminal's stderr until the first text arrives."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._spin())

    async def _spin(self) -> None:
        started = time.monotonic()
        for frame in itertools.cycle(self.FRAMES):
            self._out.write(f"\r{frame} Astra is thinking… {time.monotonic() - started:.1f}s")
            self._out.flush()
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
            self._out.write("\r\033[K")
            self._out.flush()


def build_request_text(args: argparse.Namespace) -> str:
    """The user turn: the question, with the file (or its lines) when given."""
    if args.file is None:
        if args.lines:
            raise ValueError("--lines needs --file")
        return prompts.ask(args.question)
    from ren_lsp.context import is_secret_file

    if is_secret_file(args.file.name) or is_secret_file(args.file):
        raise ValueError(f"{args.file} looks like a file of secrets (.env, keys, credentials), "
                         "so none of its text is sent to Astra")
    try:
        text = args.file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ValueError(f"cannot read {args.file}: {exc.strerror}") from None
    lines = text.splitlines(keepends=True)
    first = 1
    if args.lines:
        first, last = parse_lines(args.lines, len(lines))
        text = "".join(lines[first - 1 : last])
    return prompts.ask(args.question, path=str(args.file), code=text, first_line=first)


async def run_ask(args: argparse.Namespace, resolved: Resolved) -> int:
    from ren_lsp.models import ModelError, Request, TextDelta, client_from_settings

    try:
        text = build_request_text(args)
    except ValueError as exc:
        print(f"ren-lsp: {exc}", file=sys.stderr)
        return 2
    from ren_lsp.context import redact

    # What leaves the machine is redacted, as every request of the server is.
    request = Request.ask(redact(text, resolved.settings.secret_patterns)[0],
                          system=prompts.SYSTEM)
    spinner = Spinner(sys.stderr) if sys.stderr.isatty() else None
    async with contextlib.AsyncExitStack() as stack:
        overrides = {}
        if args.emulator:
            from ren_lsp.emulator import Emulator

            emu = await stack.enter_async_context(Emulator())
            overrides = {"base_url": emu.base_url, "api_key": "emulator"}
        client = await stack.enter_async_context(
            client_from_settings(resolved.settings, **overrides))
        stream = await stack.enter_async_context(client.stream(request))
        if spinner:
            spinner.start()
        try:
            async for event in stream:
                if isinstance(event, TextDelta):
                    if spinner:
                        spinner.stop()
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
        except ModelError as exc:
            if spinner:
                spinner.stop()
            if stream.text and not stream.text.endswith("\n"):
                sys.stdout.write("\n")
            sys.stdout.flush()
            print(f"ren-lsp: {exc}", file=sys.stderr)
            return 1
        finally:
            if spinner:
                spinner.stop()
    if not stream.text.endswith("\n"):
        sys.stdout.write("\n")
    return 0
