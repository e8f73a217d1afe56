"""What does the language server cost the editor? Ratios against baselines measured in the same run.

Prints:
- spawn-to-`initialize` time of ren-lsp and of a bare pygls 2 server (median), and their ratio;
- textDocument/codeAction latency, p50 and p99 over 1,000 requests;
- from the emulator writing the first text delta to the first `$/progress` report and to the
  first output-document edit reaching the editor (p50 over several Explain runs);
- `$/progress` and `workspace/applyEdit` messages per second under a fast stream (the batching
  bounds them, whatever the token rate), beside the stream's own deltas per second;
- the server's peak RSS;
- textDocument/codeAction latency while the server indexes a 2,000-file workspace (a copy of
  the running Python's standard library) in the background, beside the idle latency.

    .venv/bin/python bench/lsp.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types

from ren_lsp.cli.driver import Driver
from ren_lsp.emulator import Emulator, Fault

HERE = Path(__file__).parent
SOURCE = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(200))


def frame(payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


async def spawn_to_initialize(*cmd: str) -> float:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdin and proc.stdout
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                            "params": {"processId": None, "rootUri": None,
                                       "capabilities": {}}}))
    await proc.stdin.drain()
    length = 0
    while (line := await proc.stdout.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    reply = json.loads(await proc.stdout.readexactly(length))
    elapsed = time.perf_counter() - started
    assert reply.get("id") == 1 and "result" in reply, reply
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
    await proc.stdin.drain()
    await proc.wait()
    return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    ren = [sys.executable, "-m", "ren_lsp"]
    bare = [sys.executable, str(HERE / "bare_server.py")]
    starts: dict[str, list[float]] = {"ren-lsp": [], "bare pygls": []}
    for round_ in range(args.rounds):
        for name, cmd in (("ren-lsp", ren), ("bare pygls", bare))[:: 1 if round_ % 2 else -1]:
            starts[name].append(await spawn_to_initialize(*cmd))
    ren_start, bare_start = (statistics.median(starts[k]) for k in ("ren-lsp", "bare pygls"))
    print(f"spawn to initialize (median of {args.rounds}): ren-lsp {ren_start * 1000:.0f} ms, "
          f"bare pygls {bare_start * 1000:.0f} ms, ratio {ren_start / bare_start:.2f}x")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        async with Emulator() as emu:
            editor = Driver()
            await editor.start(root.as_uri(), env={
                "REN_BASE_URL": emu.base_url, "REN_API_KEY": "bench",
                "XDG_STATE_HOME": str(root / "state"), "XDG_CACHE_HOME": str(root / "cache"),
                "REN_CONFIG": str(root / "none")})
            uri = (root / "big.py").as_uri()
            editor.open(uri, SOURCE, "python")

            latencies = []
            for i in range(1000):
                line = (i * 7) % 590
                rng = types.Range(start=types.Position(line=line, character=0),
                                  end=types.Position(line=line + (i % 3), character=0))
                started = time.perf_counter()
                await editor.code_actions(uri, rng)
                latencies.append(time.perf_counter() - started)
            print(f"codeAction latency over 1,000 requests: p50 "
                  f"{percentile(latencies, 50) * 1000:.2f} ms, "
                  f"p99 {percentile(latencies, 99) * 1000:.2f} ms")

            explain = types.Command(title="Explain", command="ren.explain", arguments=[
                {"uri": uri, "range": {"start": {"line": 0, "character": 0},
                                       "end": {"line": 6, "character": 0}}}])
            to_report, to_edit = [], []
            for _ in range(args.rounds):
                seen: dict[str, float] = {}

                def on_progress(token: str, value: dict, seen: dict = seen) -> None:
                    if value.get("kind") == "report":
                        seen.setdefault("report", time.monotonic())

                def on_append(doc_uri: str, text: str, seen: dict = seen) -> None:
                    # The answer's text, not the note of the context sent before it.
                    if text.startswith("> Context"):
                        text = text.partition("\n\n")[2]
                    if doc_uri != uri and text.strip():
                        seen.setdefault("edit", time.monotonic())

                editor.on_progress, editor.on_append = on_progress, on_append
                emu.script(Fault(trickle=0.002))
                await editor.run(explain)
                first_delta = emu.requests[-1].first_delta_at
                assert first_delta is not None
                to_report.append(seen["report"] - first_delta)
                to_edit.append(seen["edit"] - first_delta)
            print(f"first delta -> first $/progress report: p50 "
                  f"{statistics.median(to_report) * 1000:.1f} ms; -> first output edit: p50 "
                  f"{statistics.median(to_edit) * 1000:.1f} ms")

            counts = {"report": 0, "edit": 0}

            def count_progress(token: str, value: dict) -> None:
                counts["report"] += value.get("kind") == "report"

            def count_edit(doc_uri: str, text: str) -> None:
                counts["edit"] += doc_uri != uri

            editor.on_progress, editor.on_append = count_progress, count_edit
            deltas = 5000
            emu.script(Fault(deltas=deltas, trickle=0.0005))
            started = time.monotonic()
            await editor.run(explain)
            elapsed = time.monotonic() - started
            print(f"fast stream: {deltas / elapsed:,.0f} deltas/s for {elapsed:.1f} s -> "
                  f"{counts['report'] / elapsed:.1f} $/progress/s, "
                  f"{counts['edit'] / elapsed:.1f} applyEdit/s "
                  f"({deltas / max(counts['edit'], 1):.0f} deltas per edit)")
            print(f"server peak RSS: {peak_rss_mib(editor.server_pid):.1f} MiB")
            await editor.stop()
            await latency_while_indexing(root, emu, idle_p50=percentile(latencies, 50))


async def latency_while_indexing(tmp: Path, emu: Emulator, idle_p50: float) -> None:
    """Does background indexing hold up the editor? codeAction latency until it is done."""
    import shutil
    import sysconfig

    root = tmp / "stdlib"
    shutil.copytree(sysconfig.get_paths()["stdlib"], root,
                    ignore=shutil.ignore_patterns("site-packages", "__pycache__"))
    editor = Driver()
    await editor.start(root.as_uri(), env={
        "REN_BASE_URL": emu.base_url, "REN_API_KEY": "bench",
        "XDG_STATE_HOME": str(tmp / "state2"), "XDG_CACHE_HOME": str(tmp / "cache2"),
        "REN_CONFIG": str(tmp / "none")})
    path = root / "json" / "decoder.py"
    uri = path.as_uri()
    editor.open(uri, path.read_text(), "python")
    rng = types.Range(start=types.Position(line=10, character=0),
                      end=types.Position(line=12, character=0))
    indexed = asyncio.ensure_future(editor.indexed())
    started, latencies = time.perf_counter(), []
    while not indexed.done():
        began = time.perf_counter()
        await editor.code_actions(uri, rng)
        latencies.append(time.perf_counter() - began)
    took = time.perf_counter() - started
    print(f"codeAction while indexing {took:.1f} s: p50 {percentile(latencies, 50) * 1000:.2f} ms"
          f" ({percentile(latencies, 50) / idle_p50:.1f}x idle), "
          f"p99 {percentile(latencies, 99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms "
          f"over {len(latencies)} requests")
    await editor.stop()


if __name__ == "__main__":
    asyncio.run(main())
