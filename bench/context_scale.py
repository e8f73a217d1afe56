"""The parts of ``bench/context.py`` that start the real programs: a 50,000-file synthetic
workspace indexed by the language server (over stdio, as an editor runs it) while codeAction
requests are timed, and ``ren-lsp context`` on a cold 100-file workspace, process start
included."""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lsp import peak_rss_mib, percentile  # bench/lsp.py
from lsprotocol import types

from ren_lsp.cli.driver import Driver
from ren_lsp.emulator import Emulator

QUESTION = "where are ledger entries posted and invoice totals computed"


def synthetic_workspace(root: Path, count: int) -> Path:
    """``count`` small source files (Python, TypeScript and Go, importing each other) in
    folders of 100, as a large monorepo has."""
    for number in range(count):
        folder = root / f"svc{number // 2000}" / f"pkg{number // 100 % 20}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = number % 10
        if kind < 7:
            other = max(number - 1, 0)
            text = (f'"""Ledger service part {number}: posts entries, totals invoices."""\n\n'
                    f"from svc{other // 2000}.pkg{other // 100 % 20}.mod{other} import "
                    f"Ledger{other}\n\n\nclass Ledger{number}(Ledger{other}):\n"
                    f'    """Entries of account {number}."""\n\n'
                    f"    def post_entry(self, amount: int) -> int:\n"
                    f"        # round to cents before posting\n"
                    f"        return self.total_invoice(amount) + {number}\n\n"
                    f"    def total_invoice(self, amount: int) -> int:\n"
                    f"        return amount * {number % 13 + 1}\n")
            (folder / f"mod{number}.py").write_text(text, encoding="utf-8")
        elif kind < 9:
            text = (f"import {{ format }} from './util{number - 1}';\n\n"
                    f"/** Renders invoice {number}. */\nexport function render{number}"
                    f"(cents: number): string {{\n  return format(cents / 100);\n}}\n")
            (folder / f"util{number}.ts").write_text(text, encoding="utf-8")
        else:
            text = (f"package pkg\n\nimport \"fmt\"\n\n// Total{number} sums an invoice.\n"
                    f"func Total{number}(lines []int) int {{\n\tsum := 0\n"
                    f"\tfor _, l := range lines {{\n\t\tsum += l\n\t}}\n"
                    f"\tfmt.Println(sum)\n\treturn sum\n}}\n")
            (folder / f"total{number}.go").write_text(text, encoding="utf-8")
    return root


def read_all(root: Path) -> tuple[float, int]:
    """Plain reading of every file under ``root`` (walk, open, read, decode): the floor."""
    started = time.perf_counter()
    count = 0
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as file:
                file.read().decode("utf-8", errors="replace")
            count += 1
    return time.perf_counter() - started, count


async def code_actions_while_indexing(root: Path, first: Path, text: str, tmp: Path,
                                      src: Path | None = None) -> dict[str, float]:
    """Start the server on ``root`` with an empty cache, ``first`` (its ``text``) open; time
    codeAction until the index is built, then as many again once idle (the baseline, same
    server). ``src``: the source tree of another version's server to run instead."""
    env = {"REN_BASE_URL": "", "REN_API_KEY": "bench", "XDG_STATE_HOME": str(tmp / "state"),
           "XDG_CACHE_HOME": str(tmp / "cache"), "REN_CONFIG": str(tmp / "none")}
    if src is not None:  # that version's ren_lsp first on the server's path
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(src), os.environ.get("PYTHONPATH", "")) if p)
        # ``python -m`` puts the working directory first, ahead of PYTHONPATH: run from a
        # checkout, the server would be this version again.
        env["PYTHONSAFEPATH"] = "1"
    async with Emulator() as emu:
        editor = Driver()
        started = time.perf_counter()
        await editor.start(root.as_uri(), env={**env, "REN_BASE_URL": emu.base_url})
        uri = first.as_uri()
        editor.open(uri, text, "python")
        rng = types.Range(start=types.Position(line=5, character=0),
                          end=types.Position(line=8, character=0))
        indexed = asyncio.ensure_future(editor.indexed())
        during: list[float] = []
        slowest = (0.0, 0.0)  # (seconds, when since the start): which phase stalls
        while not indexed.done():
            began = time.perf_counter()
            await editor.code_actions(uri, rng)
            during.append(time.perf_counter() - began)
            slowest = max(slowest, (during[-1], began - started))
        await indexed
        built = time.perf_counter() - started
        idle: list[float] = []
        for _ in range(max(len(during), 200)):
            began = time.perf_counter()
            await editor.code_actions(uri, rng)
            idle.append(time.perf_counter() - began)
        rss = peak_rss_mib(editor.server_pid)
        await editor.stop()
    return {"built_s": built, "requests": len(during),
            "p50_ms": percentile(during, 50) * 1000, "p99_ms": percentile(during, 99) * 1000,
            "max_ms": max(during) * 1000, "max_at_s": slowest[1],
            "idle_p50_ms": percentile(idle, 50) * 1000,
            "idle_p99_ms": percentile(idle, 99) * 1000, "idle_max_ms": max(idle) * 1000,
            "rss": rss}


def cli_cold(tmp: Path, runs: int = 7) -> dict[str, float]:
    """``ren-lsp context`` on a cold 100-file workspace (a fresh cache each run), process start
    included, beside starting the interpreter alone; and what importing costs most."""
    workspace = synthetic_workspace(tmp / "hundred", 100)
    command = [sys.executable, "-m", "ren_lsp", "context", QUESTION, "--workspace",
               str(workspace), "--json"]
    times, bare = [], []
    # An installed package has its bytecode compiled: let this run write it, untimed.
    compiled = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([*command, "--no-cache"], env=compiled, capture_output=True, check=True)
    for run in range(runs):
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp / f"cli-cache{run}"),
               "XDG_CONFIG_HOME": str(tmp / "cli-config"), "REN_CONFIG": str(tmp / "none")}
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - started)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cli-cache-imports"),
           "REN_CONFIG": str(tmp / "none")}
    done = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], env=env,
                          capture_output=True, text=True, check=True)
    imports: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(2)) <= 1:  # top-level imports only
            imports.append((int(match.group(1)), match.group(3)))
    imports.sort(reverse=True)
    return {"p50_ms": statistics.median(times) * 1000, "python_ms": statistics.median(bare) * 1000,
            "imports": ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in imports[:4])}


def machine() -> str:
    """The cores this process may use, the CPU model and the load when the run began."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cores} cores ({model}), load average {load} (shared with other work)"
