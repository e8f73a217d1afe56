"""What does the context engine cost on a large real tree? The standard library of the running
Python (about 2,000 files), copied to a temporary folder so that files can change.

Prints, each phase in a fresh process (so each peak RSS is its own):
- cold index: listing, parsing and caching everything, beside the time to just read and decode
  every listed file (the floor any indexer pays) and their ratio;
- warm start: a new engine on the same tree with the cache on disk (what a restart costs);
- update after one file changes: ``update(path)`` from disk and ``update(path, text)`` from a
  buffer, and how many files each parsed; then a restart after that change;
- query latency p50 / p95 over questions and current-file requests (rank and render, default
  budget);
- peak RSS of each phase.

    .venv/bin/python bench/context.py
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

QUESTIONS = [
    "where is the least recently used cache decorator implemented",
    "how does json decode strings with escape sequences",
    "how does the asyncio event loop schedule callbacks with call_later",
    "how are dataclass __init__ methods generated",
    "where does argparse format the usage message",
    "how is a temporary directory created and cleaned up",
    "how does logging rotate log files by size",
    "how is a zip file's central directory read",
    "how are unified diffs generated between two lists of lines",
    "how is a URL split into scheme, netloc, path and query",
]
CURRENT = ["json/decoder.py", "asyncio/base_events.py", "http/client.py", "email/parser.py",
           "logging/handlers.py", "concurrent/futures/thread.py", "unittest/loader.py",
           "xml/etree/ElementTree.py", "tomllib/_parser.py", "zipfile.py"]
CHANGED = "json/decoder.py"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def copy_stdlib(into: Path) -> Path:
    source = Path(sysconfig.get_paths()["stdlib"])
    tree = into / "stdlib"
    shutil.copytree(source, tree, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "site-packages"))
    return tree


# -- the phases (each runs in its own process) -----------------------------------------------------


def phase_read(tree: Path, cache: Path) -> dict[str, float]:
    from ren_lsp.context.files import list_files
    from ren_lsp.context.index import read_text

    started = time.perf_counter()
    listing = list_files(tree)
    for rel in listing.files:
        read_text(tree / rel)
    return {"seconds": time.perf_counter() - started, "files": len(listing.files)}


def phase_cold(tree: Path, cache: Path) -> dict[str, float]:
    from ren_lsp.context import ContextEngine

    started = time.perf_counter()
    engine = ContextEngine([tree], cache_dir=cache)
    engine.build_sync()
    seconds = time.perf_counter() - started
    stats = engine.stats
    return {"seconds": seconds, "parsed": stats.parsed, "listed": stats.listed,
            "skipped": sum(stats.skipped.values()), "rss": peak_rss_mb(),
            "cache_mb": sum(p.stat().st_size for p in cache.iterdir()) / 1e6}


def phase_warm(tree: Path, cache: Path) -> dict[str, float]:
    from ren_lsp.context import ContextEngine

    started = time.perf_counter()
    engine = ContextEngine([tree], cache_dir=cache)
    engine.build_sync()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "parsed": engine.stats.parsed,
            "from_cache": engine.stats.from_cache, "rss": peak_rss_mb()}


def phase_update(tree: Path, cache: Path) -> dict[str, float]:
    from ren_lsp.context import ContextEngine

    engine = ContextEngine([tree], cache_dir=cache)
    engine.build_sync()
    before = engine.stats.parsed
    path = tree / CHANGED
    text = path.read_text(encoding="utf-8") + "\n\ndef added_by_the_benchmark(x):\n    return x\n"
    started = time.perf_counter()
    engine.update(path, text)
    buffer_ms = (time.perf_counter() - started) * 1000
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    engine.update(path)
    disk_ms = (time.perf_counter() - started) * 1000
    assert "added_by_the_benchmark" in engine.index.defined_in
    return {"buffer_ms": buffer_ms, "disk_ms": disk_ms, "parsed": engine.stats.parsed - before,
            "rss": peak_rss_mb()}


def phase_query(tree: Path, cache: Path) -> dict[str, float]:
    from ren_lsp.context import ContextEngine

    engine = ContextEngine([tree], cache_dir=cache)
    engine.build_sync()
    latencies = []
    tokens = []
    for _ in range(3):
        for question in QUESTIONS:
            started = time.perf_counter()
            result = engine.query(question=question)
            latencies.append(time.perf_counter() - started)
            tokens.append(result.tokens)
        for rel in CURRENT:
            path = tree / rel
            lines = path.read_text(encoding="utf-8").splitlines()
            selection = "\n".join(lines[len(lines) // 2: len(lines) // 2 + 8])
            started = time.perf_counter()
            result = engine.query(question="explain this", current=path, selection=selection)
            latencies.append(time.perf_counter() - started)
            tokens.append(result.tokens)
    latencies.sort()
    return {"p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
            "queries": len(latencies), "tokens": statistics.median(tokens), "rss": peak_rss_mb()}


PHASES = {"read": phase_read, "cold": phase_cold, "warm": phase_warm, "update": phase_update,
          "query": phase_query}


def run_phase(name: str, tree: Path, cache: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--phase", name, str(tree), str(cache)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        tree, cache = (Path(p) for p in args.paths)
        print(json.dumps(PHASES[args.phase](tree, cache)))
        return
    with tempfile.TemporaryDirectory() as temporary:
        tree = copy_stdlib(Path(temporary))
        cache = Path(temporary) / "cache"
        read = run_phase("read", tree, cache)
        cold = run_phase("cold", tree, cache)
        warm = run_phase("warm", tree, cache)
        update = run_phase("update", tree, cache)
        restart = run_phase("warm", tree, cache)
        query = run_phase("query", tree, cache)
    print(f"tree: the standard library of Python {sys.version.split()[0]}, "
          f"{cold['listed']:.0f} files indexed ({cold['skipped']:.0f} left out by the rules)")
    print(f"cold index      {cold['seconds']:7.2f} s   ({cold['parsed']:.0f} parsed; reading "
          f"and decoding alone {read['seconds']:.2f} s: x{cold['seconds'] / read['seconds']:.1f})"
          f"  cache {cold['cache_mb']:.1f} MB   peak RSS {cold['rss']:.0f} MB")
    print(f"warm start      {warm['seconds']:7.2f} s   ({warm['from_cache']:.0f} from the cache, "
          f"{warm['parsed']:.0f} parsed: x{cold['seconds'] / warm['seconds']:.1f} faster than "
          f"cold)  peak RSS {warm['rss']:.0f} MB")
    print(f"one file edited {update['buffer_ms']:7.1f} ms from the buffer, "
          f"{update['disk_ms']:.1f} ms from disk ({update['parsed']:.0f} parses in all); "
          f"restart after it {restart['seconds']:.2f} s ({restart['parsed']:.0f} parsed)")
    print(f"query           p50 {query['p50_ms']:.1f} ms, p95 {query['p95_ms']:.1f} ms over "
          f"{query['queries']:.0f} requests (median {query['tokens']:.0f} tokens of context)  "
          f"peak RSS {query['rss']:.0f} MB")


if __name__ == "__main__":
    main()
