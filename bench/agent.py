"""How much time does the server itself spend on each step of an agent run?

A 20-step scripted run (the emulator plays the model: reads, searches, lists, edits and
creates files, over a loopback socket) through the real server, driven by a small editor.
For each step: the server's own time, from the moment the model's reply was fully written to
the moment the next model request arrived (running the tool, the checkpoint, the editor's
applyEdit round trip, building the next request), and the LSP messages it sent the editor.
Baseline, in the same run: one codeAction round trip (the cheapest request there is) and one
bare read of the same file. Prints p50 and p99 and their ratios; these machines are noisy.

    .venv/bin/python bench/agent.py [--steps 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types

from ren_lsp.cli.driver import Driver
from ren_lsp.emulator import Emulator


def steps(count: int) -> list[dict[str, object]]:
    """A varied, plausible run: read, search, list, edit, create; then done."""
    script: list[dict[str, object]] = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            script.append({"tool": "read_file", "input": {"path": f"mod{i % 4}.py"}})
        elif kind == 1:
            script.append({"tool": "search", "input": {"query": f"function number {i}"}})
        elif kind == 2:
            script.append({"tool": "list_files", "input": {}})
        elif kind == 3:
            n = i % 4
            script.append({"tool": "edit_file", "input": {
                "path": f"mod{n}.py", "old_text": f"VALUE_{n} = {i - 3 if i >= 8 else 0}",
                "new_text": f"VALUE_{n} = {i}"}})
        else:
            script.append({"tool": "create_file", "input": {"path": f"new/file{i}.py",
                                                            "content": f"X = {i}\n"}})
    return [*script, {"text": "Done."}]


def workspace(root: Path) -> None:
    for n in range(4):
        body = "".join(f"def function_{n}_{k}(x):\n    return x + {k}\n\n\n" for k in range(30))
        (root / f"mod{n}.py").write_text(f"VALUE_{n} = 0\n\n\n{body}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_run(count: int) -> tuple[list[float], list[float], float, float]:
    with tempfile.TemporaryDirectory(prefix="ren-bench-agent-") as tmp:
        root = Path(tmp)
        workspace(root)
        async with Emulator() as emu:
            editor = Driver()
            received: list[float] = []
            real_progress = editor.on_progress
            editor.on_append = lambda uri, text: received.append(time.monotonic())
            editor.on_progress = lambda token, value: (received.append(time.monotonic()),
                                                       real_progress(token, value))
            await editor.start(root.as_uri(), env={
                "REN_BASE_URL": emu.base_url, "REN_API_KEY": "bench",
                "XDG_STATE_HOME": str(root / ".state"), "XDG_CACHE_HOME": str(root / ".cache"),
                "REN_CONFIG": str(root / "none.toml")})
            try:
                await editor.indexed()
                uri = (root / "mod0.py").as_uri()
                rng = types.Range(start=types.Position(line=0, character=0),
                                  end=types.Position(line=1, character=0))
                editor.open(uri, (root / "mod0.py").read_text(), "python")
                started = time.perf_counter()
                for _ in range(20):
                    await editor.code_actions(uri, rng)
                code_action = (time.perf_counter() - started) / 20
                started = time.perf_counter()
                for _ in range(20):
                    (root / "mod1.py").read_text()
                bare_read = (time.perf_counter() - started) / 20
                emu.converse(steps(count))
                received.clear()
                result = await editor.run(types.Command(
                    title="agent", command="ren.agent",
                    arguments=[{"task": "bench", "maxSteps": count + 1}]))
                assert f"{count} steps" in str(result["ended"]), result["ended"]
            finally:
                await editor.stop()
            requests = emu.requests
    per_step, messages = [], []
    for before, after in itertools.pairwise(requests):
        assert before.finished_at is not None
        per_step.append(after.arrived_at - before.finished_at)
        messages.append(sum(1 for t in received if before.finished_at <= t < after.arrived_at))
    return per_step, [float(m) for m in messages], code_action, bare_read


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times: list[float] = []
    messages: list[float] = []
    baselines: list[float] = []
    reads: list[float] = []
    for _ in range(args.runs):
        t, m, b, r = await one_run(args.steps)
        times += t
        messages += m
        baselines.append(b)
        reads.append(r)
    base, read = statistics.median(baselines), statistics.median(reads)
    p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
    print(f"{args.runs} runs of {args.steps} tool steps (python {sys.version.split()[0]})")
    print(f"  server time per step   p50 {p50 * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms")
    print(f"  codeAction round trip      {base * 1000:7.2f} ms   (baseline, same run)")
    print(f"  bare file read             {read * 1000:7.3f} ms")
    print(f"  ratio step / codeAction    p50 {p50 / base:5.1f}x   p99 {p99 / base:5.1f}x")
    print(f"  editor messages per step   p50 {percentile(messages, 0.5):.0f}   "
          f"max {max(messages):.0f}   (progress reports and transcript appends)")


if __name__ == "__main__":
    asyncio.run(main())
