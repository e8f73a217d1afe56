"""What does inline completion cost? ren-lsp against a bare pygls server, in the same run.

Prints, for invoked completions at 200 different places of a file (the emulator answers):
- the server's own latency: request in -> model request out, and model answer in -> response
  out (p50 and p99), for ren-lsp and for a bare pygls server that makes the same model request
  with httpx and returns the raw text (bench/bare_completion_server.py), and ren-lsp's extra;
- the whole trip from the trigger to the answer beside the emulator's own first-token time;
and for scripted typing (keystrokes at 30 ms, a pause after each line, an automatic request
after every keystroke): model requests per 100 keystrokes for ren-lsp and for the bare server
(which asks on every keystroke), and how fast a stale request is answered (empty).

    .venv/bin/python bench/completion.py [--places 200] [--keystrokes 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from ren_lsp.emulator import Emulator

HERE = Path(__file__).parent
SOURCE = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(240))
TYPED = ("    total = compute(values, rate)\n    if total > limit:\n"
         "        raise ValueError(total)\n    return round(total, 2)\n")
KEY = "bench-key"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def ms(value: float) -> str:
    return f"{value * 1000:.2f} ms"


class Editor:
    """Just enough of an editor: open, type, ask for inline completions."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.command, self.env = command, env
        self.client = LanguageClient("bench", "0")
        self.version = 1

    async def start(self, root: Path) -> None:
        await self.client.start_io(*self.command, env={**os.environ, **self.env})
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
            process_id=os.getpid()))
        self.client.initialized(types.InitializedParams())

    def open(self, uri: str, text: str) -> None:
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                 text=text)))

    def type(self, uri: str, line: int, character: int, text: str) -> None:
        self.version += 1
        here = types.Position(line=line, character=character)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=here, end=here), text=text)]))

    def ask(self, uri: str, line: int, character: int,
            kind: types.InlineCompletionTriggerKind) -> asyncio.Future:
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=kind))
        return asyncio.wrap_future(self.client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params))

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def servers(root: Path, emu: Emulator) -> dict[str, Editor]:
    env = {"REN_BASE_URL": emu.base_url, "REN_API_KEY": KEY, "REN_CONFIG": str(root / "none"),
           "XDG_STATE_HOME": str(root / "state"), "XDG_CACHE_HOME": str(root / "cache"),
           "REN_COMPLETION_ENABLED": "true"}
    return {"ren-lsp": Editor([sys.executable, "-m", "ren_lsp"], env),
            "bare pygls": Editor([sys.executable, str(HERE / "bare_completion_server.py")], env)}


async def overhead(editor: Editor, emu: Emulator, uri: str, places: int,
                   first: int = 0) -> dict[str, list]:
    """Invoked completions at ``places`` blank lines from the ``first``, one at a time (each
    place once: the same place again would be ren-lsp's cache, not the model)."""
    found: dict[str, list] = {"in_out": [], "answer_out": [], "trip": [], "first_token": []}
    for i in range(first, first + places):
        line = 3 * (i % 240) + 2  # the blank line after f{i}
        emu.reset()
        sent = time.monotonic()
        result = await editor.ask(uri, line, 0, types.InlineCompletionTriggerKind.Invoked)
        answered = time.monotonic()
        [record] = emu.requests
        assert result.items and record.completed, (result, record)
        assert record.arrived_at and record.finished_at and record.first_delta_at
        found["in_out"].append(record.arrived_at - sent)
        found["answer_out"].append(answered - record.finished_at)
        found["trip"].append(answered - sent)
        found["first_token"].append(record.first_delta_at - record.arrived_at)
    return found


async def typing(editor: Editor, emu: Emulator, uri: str, keystrokes: int,
                 pause: float) -> tuple[int, list[float]]:
    """Type ``keystrokes`` characters at 30 ms, pausing ``pause`` s after each line, an
    automatic request after every keystroke; model requests made, and how long each stale
    request took to be answered after the newer one was sent."""
    emu.reset()
    line, column, pending = 720, 0, []
    sent_at: list[float] = []
    answered_at: dict[int, float] = {}
    for n in range(keystrokes):
        char = TYPED[n % len(TYPED)]
        editor.type(uri, line, column, char)
        line, column = (line + 1, 0) if char == "\n" else (line, column + 1)
        future = editor.ask(uri, line, column, types.InlineCompletionTriggerKind.Automatic)
        sent_at.append(time.monotonic())
        future.add_done_callback(lambda _, n=n: answered_at.setdefault(n, time.monotonic()))
        pending.append(future)
        await asyncio.sleep(pause if char == "\n" else 0.030)
    await asyncio.wait_for(asyncio.gather(*pending), 60)
    stale = [answered_at[n] - sent_at[n + 1] for n in range(keystrokes - 1)
             if answered_at[n] > sent_at[n + 1]]
    return len(emu.requests), stale


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--places", type=int, default=200)
    parser.add_argument("--keystrokes", type=int, default=200)
    parser.add_argument("--pause", type=float, default=0.6, help="seconds after each line")
    args = parser.parse_args()
    if args.places > 230:
        parser.error("--places: at most 230 (the file has 240 places; 10 warm up)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "calc.py").write_text(SOURCE, encoding="utf-8")
        (root / "none").write_text("", encoding="utf-8")  # an empty config.toml
        uri = (root / "calc.py").as_uri()
        async with Emulator(api_key=KEY) as emu:
            results, requests, stale_times = {}, {}, {}
            for name, editor in servers(root, emu).items():
                await editor.start(root)
                editor.open(uri, SOURCE + "\n" * 4)
                await overhead(editor, emu, uri, 10, first=230)  # warm up (imports, first parse)
                results[name] = await overhead(editor, emu, uri, args.places)
                requests[name], stale_times[name] = await typing(
                    editor, emu, uri, args.keystrokes, args.pause)
                await editor.stop()
    ren, bare = results["ren-lsp"], results["bare pygls"]
    print(f"inline completion at {args.places} places (invoked, the emulator answering):")
    for key, what in (("in_out", "request in -> model request out"),
                      ("answer_out", "model answer in -> response out")):
        r50, r99 = percentile(ren[key], 50), percentile(ren[key], 99)
        b50, b99 = percentile(bare[key], 50), percentile(bare[key], 99)
        print(f"  {what}: ren-lsp p50 {ms(r50)} p99 {ms(r99)}; bare pygls p50 {ms(b50)} "
              f"p99 {ms(b99)}; ren-lsp's extra p50 {ms(r50 - b50)} p99 {ms(r99 - b99)} "
              f"(ratio p50 {r50 / b50:.2f}x, p99 {r99 / b99:.2f}x)")
    for name, found in results.items():
        trip, first = statistics.median(found["trip"]), statistics.median(found["first_token"])
        print(f"  trigger -> answer, {name}: p50 {ms(trip)}, beside the emulator's own first "
              f"token p50 {ms(first)} ({trip / first:.1f}x)")
    print(f"scripted typing, {args.keystrokes} keystrokes at 30 ms, {args.pause:g} s after each "
          "line, an automatic request after every keystroke:")
    for name, made in requests.items():
        print(f"  {name}: {made} model requests = {100 * made / args.keystrokes:.1f} per 100 "
              f"keystrokes ({made / requests['bare pygls']:.2f}x the bare server's)")
    stale = stale_times["ren-lsp"]
    if stale:
        print(f"  ren-lsp answered {len(stale)} stale requests (empty) p50 "
              f"{ms(percentile(stale, 50))}, p99 {ms(percentile(stale, 99))} after the newer "
              "request was sent")


if __name__ == "__main__":
    asyncio.run(main())
