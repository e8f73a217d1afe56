"""How much does the model client cost over reading the same stream with bare httpx?

For each backend (the Ren API, Anthropic, OpenAI-compatible, Ollama) the emulator (a separate
process, so it does not share our CPU) streams a long answer of 20,000 small text deltas in
that backend's dialect as fast as it can. Each round reads it once with bare httpx (lines, no
parsing) and once through the model client (framing, JSON decoding, typed events, timeouts),
in alternating order. Prints events per second for both and their ratios (wall and CPU time
of this process), medians over the rounds. Ratios, not absolute times: these machines are
noisy.

    .venv/bin/python bench/stream.py [--deltas 20000] [--rounds 5] [--backend ren ...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

from ren_lsp.models import Request, TextDelta, dialect
from ren_lsp.models.client import HTTPModelClient

KEY = "bench-key"
QUESTION = "Explain billing pagination."
BACKENDS = ("ren", "anthropic", "openai", "ollama")


async def script(http: httpx.AsyncClient, base: str, deltas: int) -> None:
    reply = await http.post(f"{base}/_emulator/script", json=[{"deltas": deltas}])
    reply.raise_for_status()


def bare_request(backend: str, base: str) -> tuple[str, dict[str, object], dict[str, str],
                                                   Callable[[str], bool]]:
    """URL, body, headers and a line test counting text deltas, for reading without a client."""
    body = dialect(backend).body(Request.ask(QUESTION), model="astra", max_tokens=4096,
                                 temperature=None, context_tokens=6000)
    headers = {"Content-Type": "application/json", **dialect(backend).headers(KEY)}
    path = dialect(backend).path
    if backend in ("ren", "anthropic"):
        return base + path, body, headers, lambda line: line == "event: content_block_delta"
    if backend == "openai":
        return base + path, body, headers, lambda line: '"content":' in line
    return base + path, body, headers, lambda line: '"done":false' in line


async def bare(http: httpx.AsyncClient, backend: str, base: str) -> int:
    url, body, headers, is_delta = bare_request(backend, base)
    count = 0
    async with http.stream("POST", url, json=body, headers=headers) as r:
        async for line in r.aiter_lines():
            if is_delta(line):
                count += 1
    return count


async def through_client(model: HTTPModelClient) -> int:
    count = 0
    async with model.stream(Request.ask(QUESTION)) as stream:
        async for event in stream:
            if isinstance(event, TextDelta):
                count += 1
    return count


async def timed(run: Callable[[], Awaitable[int]], expected: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    count = await run()
    assert count == expected, f"expected {expected} deltas, got {count}"
    return time.perf_counter() - wall, time.process_time() - cpu


async def measure(http: httpx.AsyncClient, base: str, backend: str, deltas: int,
                  rounds: int) -> dict[str, tuple[float, float]]:
    key = None if backend == "ollama" else KEY
    async with HTTPModelClient(dialect(backend), base_url=base, api_key=key,
                               model="astra") as model:
        runs = {"bare httpx": lambda: bare(http, backend, base),
                "client": lambda: through_client(model)}
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for round_ in range(rounds + 1):
            order = list(runs) if round_ % 2 == 0 else list(reversed(runs))
            for name in order:
                await script(http, base, deltas)
                measured = await timed(runs[name], deltas)
                if round_:  # the first round warms up both paths
                    results[name].append(measured)
    return {name: (statistics.median(s[0] for s in samples),
                   statistics.median(s[1] for s in samples))
            for name, samples in results.items()}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deltas", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", nargs="*", choices=BACKENDS, default=list(BACKENDS))
    args = parser.parse_args()

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ren_lsp", "emulator", "--key", KEY,
        stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    base = (await proc.stdout.readline()).decode().strip()
    print(f"{args.deltas} text deltas, median of {args.rounds} rounds")
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            for backend in args.backend:
                medians = await measure(http, base, backend, args.deltas, args.rounds)
                (bw, bc), (cw, cc) = medians["bare httpx"], medians["client"]
                print(f"  {backend:<10} bare httpx {args.deltas / bw:>9,.0f} events/s   "
                      f"client {args.deltas / cw:>9,.0f} events/s   "
                      f"throughput {bw / cw:.2f}x   CPU per event {cc / bc:.2f}x")
    finally:
        proc.terminate()
        await proc.wait()


if __name__ == "__main__":
    asyncio.run(main())
