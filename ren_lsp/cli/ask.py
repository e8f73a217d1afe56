"""`ren-lsp ask`: one question to Astra, the answer streamed to stdout as it arrives."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import attrs

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


def find_workspace(args: argparse.Namespace) -> Path | None:
    """The workspace whose context the question carries: ``--workspace``, else the git work
    tree holding ``--file`` (or, without one, the current directory); None outside one, so a
    question asked from the home folder never indexes it."""
    if getattr(args, "workspace", None) is not None:
        folder = Path(args.workspace).expanduser().resolve()
        if not folder.is_dir():
            raise ValueError(f"--workspace {args.workspace} is not a folder")
        return folder
    start = Path(args.file).resolve().parent if args.file is not None else Path.cwd()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():  # a folder, or a file in a linked worktree
            return folder
    return None


@attrs.frozen
class Selected:
    """What ``--file`` (and ``--lines``) chose, read once."""

    path: str | None = None
    code: str | None = None
    first: int = 1
    #: the whole file, whose secrets the redactor learns before the lines are sent
    whole: str = ""


def build_request_text(args: argparse.Namespace, selected: Selected, context: str = "") -> str:
    """The user turn: the question, with the file (or its lines) when given, then the
    repository ``context`` (as ``ren.ask`` sends it)."""
    if selected.code is None:
        return prompts.ask(args.question, context=context)
    return prompts.ask(args.question, path=selected.path, code=selected.code,
                       first_line=selected.first, context=context)


def selected_code(args: argparse.Namespace, secret_files: Sequence[str] = ()) -> Selected:
    """``--file`` (or its ``--lines``); nothing without. A file of secrets (the context
    engine's rules and the ``secretFiles`` setting) is refused."""
    if args.file is None:
        if args.lines:
            raise ValueError("--lines needs --file")
        return Selected()
    from ren_lsp.context import is_secret_file

    if is_secret_file(args.file.name, secret_files) or is_secret_file(args.file, secret_files):
        raise ValueError(f"{args.file} looks like a file of secrets (.env, keys, credentials), "
                         "so none of its text is sent to Astra")
    try:
        text = args.file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ValueError(f"cannot read {args.file}: {exc.strerror}") from None
    lines = text.splitlines(keepends=True)
    first, code = 1, text
    if args.lines:
        first, last = parse_lines(args.lines, len(lines))
        code = "".join(lines[first - 1 : last])
    return Selected(str(args.file), code, first, text)


def repository_context(args: argparse.Namespace, resolved: Resolved, selected: Selected) -> str:
    """The repository context ``ren.ask`` would send for this question from this workspace:
    the same ranking (``context_for``), the selection when ``--lines`` is given; '' outside a
    workspace."""
    from ren_lsp.context.cli import context_for

    workspace = find_workspace(args)
    if workspace is None:
        return ""
    current = Path(args.file).resolve() if args.file is not None else None
    selection = selected.code if args.lines and selected.code else ""
    result = context_for(workspace, args.question, resolved.settings, current=current,
                         selection=selection, progress=sys.stderr.isatty())
    return result.text


def _refusal(args: argparse.Namespace, resolved: Resolved) -> str | None:
    """Why no request may go out, checked before the workspace is indexed: an invalid setting
    that decides where it goes, or no key where one is needed."""
    from ren_lsp.keys import resolve_api_key
    from ren_lsp.models import dialect, errors
    from ren_lsp.models.rules import is_loopback

    if args.emulator:
        return resolved.blocking_error("provider")
    refused = resolved.blocking_error("provider", "base_url")
    if refused is not None:
        return refused
    settings = resolved.settings
    backend = dialect(settings.provider)
    host = urlsplit(settings.base_url or backend.default_base_url).hostname or ""
    if backend.key_env is None or (is_loopback(host) and not backend.key_on_loopback):
        return None
    try:
        key = resolve_api_key(settings)
    except errors.ModelError as exc:
        return str(exc)
    return None if key else f"No API key is set for {backend.service}: {backend.key_help()}."


async def run_ask(args: argparse.Namespace, resolved: Resolved) -> int:
    from ren_lsp.models import ModelError, Request, TextDelta, client_from_settings

    try:
        selected = selected_code(args, resolved.settings.secret_files)  # bad arguments first
    except ValueError as exc:
        print(f"ren-lsp: {exc}", file=sys.stderr)
        return 2
    refusal = _refusal(args, resolved)
    if refusal is not None:
        print(f"ren-lsp: {refusal}", file=sys.stderr)
        return 1
    try:
        context = await asyncio.to_thread(repository_context, args, resolved, selected)
        text = build_request_text(args, selected, context)
    except ValueError as exc:
        print(f"ren-lsp: {exc}", file=sys.stderr)
        return 2
    from ren_lsp.context.secrets import Redactor

    # What leaves the machine is redacted, as every request of the server is; the secrets of
    # the whole file are known first, so --lines that cut one (a key block) send none of it.
    redactor = Redactor(resolved.settings.secret_patterns)
    redactor.learn(selected.whole)
    request = Request.ask(redactor.redact(text), system=prompts.SYSTEM)
    spinner = Spinner(sys.stderr) if sys.stderr.isatty() else None
    async with contextlib.AsyncExitStack() as stack:
        overrides: dict[str, str] = {}
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
