"""How much does the Ren API client cost over reading the same stream with bare httpx?

The emulator (a separate process, so it does not share our CPU) streams a long answer of
20,000 small text deltas as fast as it can. Each round reads it once with bare httpx (lines,
no parsing) and once through AstraClient (SSE decoding, typed events, timeouts per event), in
alternating order. Prints events per second for both and their ratios (wall and CPU time of
this process), medians over the rounds. Ratios, not absolute times: these machines are noisy.

    .venv/bin/python bench/stream.py [--deltas 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import httpx

from ren_lsp.models import Request, TextDelta
from ren_lsp.models.client import HTTPModelClient
from ren_lsp.models.ren import RenDialect

KEY = "bench-key"
BODY = {"model": "astra", "stream": True, "max_tokens": 4096,
        "messages": [{"role": "user", "content": "Explain billing pagination."}]}


async def script(http: httpx.AsyncClient, base: str, deltas: int) -> None:
    reply = await http.post(f"{base}/_emulator/script", json=[{"deltas": deltas}])
    reply.raise_for_status()


async def bare(http: httpx.AsyncClient, base: str) -> int:
    count = 0
    headers = {"Authorization": f"Bearer {KEY}", "Accept": "text/event-stream"}
    async with http.stream("POST", f"{base}/v1/messages", json=BODY, headers=headers) as r:
        async for line in r.aiter_lines():
            if line == "event: content_block_delta":
                count += 1
    return count


async def client(astra: HTTPModelClient) -> int:
    count = 0
    async with astra.stream(Request.ask(BODY["messages"][0]["content"])) as stream:
        async for event in stream:
            if isinstance(event, TextDelta):
                count += 1
    return count


async def timed(run, expected: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    count = await run()
    assert count == expected, f"expected {expected} deltas, got {count}"
    return time.perf_counter() - wall, time.process_time() - cpu


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deltas", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ren_lsp", "emulator", "--key", KEY,
        stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    base = (await proc.stdout.readline()).decode().strip()
    try:
        async with httpx.AsyncClient(timeout=60) as http, \
                HTTPModelClient(RenDialect(), base_url=base, api_key=KEY) as astra:
            results: dict[str, list[tuple[float, float]]] = {"bare httpx": [], "AstraClient": []}
            runs = {"bare httpx": lambda: bare(http, base), "AstraClient": lambda: client(astra)}
            for round_ in range(args.rounds + 1):
                order = list(runs) if round_ % 2 == 0 else list(reversed(runs))
                for name in order:
                    await script(http, base, args.deltas)
                    measured = await timed(runs[name], args.deltas)
                    if round_:  # the first round warms up both paths
                        results[name].append(measured)
    finally:
        proc.terminate()
        await proc.wait()

    print(f"{args.deltas} text deltas, median of {args.rounds} rounds")
    medians = {}
    for name, samples in results.items():
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        medians[name] = (wall, cpu)
        print(f"  {name:<12} {args.deltas / wall:>10,.0f} events/s wall   "
              f"{args.deltas / cpu:>10,.0f} events/s of CPU")
    (bw, bc), (cw, cc) = medians["bare httpx"], medians["AstraClient"]
    print(f"  ratio AstraClient / bare httpx: throughput {bw / cw:.2f}x, "
          f"CPU per event {cc / bc:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
