"""What does the context engine cost on a large real tree? The standard library of the running
Python (about 2,300 files), copied to a temporary folder so that files can change.

Prints the machine first (cores, CPU, load: the figures scale with it), then, each phase in a
fresh process (so each peak RSS is its own; worker processes' peak apart):
- cold index: listing, reading, sketching and caching everything (a large build parses on
  demand: ``sketch.py``), with worker processes (one per core) and in one worker thread, beside
  the time to just read and decode every listed file (the floor any indexer pays) and their
  ratio; when every file was searchable (before the cache is written); then the first requests
  after it, which parse their candidates on demand;
- how well the sketch agrees with a parse over the same files (names and imports, precision
  and recall);
- warm start: a new engine on the same tree with the cache on disk (what a restart costs);
- update after one file changes: ``update(path)`` from disk and ``update(path, text)`` from a
  buffer, and how many files each parsed; then a restart after that change;
- query latency p50 / p95 over questions and current-file requests (rank and render, default
  budget);
- peak RSS of each phase.

Then, through the real programs (``context_scale.py``):
- a 50,000-file synthetic workspace (generated into a temporary folder): the language server
  started on it over stdio with an empty cache, codeAction latency p50 / p99 while it indexes,
  beside the same server's idle latency after; the build's duration beside plain reading;
- ``ren-lsp context`` on a cold 100-file workspace: p50 wall time including process start,
  beside starting the interpreter alone, and the costliest imports (``-X importtime``).

With ``--compare SRC`` (a checkout of another version, e.g. ``git archive main``), the
standard-library phases run again with that version's ``ren_lsp`` in the same run: the baseline.

With ``--only-server``, only the 50,000-file row (``--files N`` for another size); with
``--compare SRC`` too, the same row again with that version's server, in the same run.

With ``--repeat N``, the cold, warm and restart phases run N times more, the versions taking
turns, and their medians and ranges are printed (one run of each says little on a noisy
machine).

The measured versions' modules are byte-compiled first, as an installed package's are
(``--no-bytecode``: not; on a machine that sets ``PYTHONDONTWRITEBYTECODE`` every process then
compiles what it imports).

    .venv/bin/python bench/context.py [--compare /tmp/main] [--files 50000] [--repeat N]
        [--skip-server | --only-server] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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


def children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def phase_cold(tree: Path, cache: Path, workers: int | None = None) -> dict[str, float]:
    from ren_lsp.context import ContextEngine

    started = time.perf_counter()
    lexical = [0.0]

    def progress(done: int, total: int) -> None:
        if done == total and not lexical[0]:
            lexical[0] = time.perf_counter() - started

    engine = ContextEngine([tree], cache_dir=cache)
    if hasattr(engine.index, "workers"):  # an older version has no worker processes
        engine.index.workers = workers
    engine.build_sync(progress)
    seconds = time.perf_counter() - started
    stats = engine.stats
    first = []
    for question in QUESTIONS[:5]:  # the first requests: their candidates parsed on demand
        began = time.perf_counter()
        engine.query(question=question)
        first.append(time.perf_counter() - began)
    return {"seconds": seconds, "lexical": lexical[0] or seconds, "parsed": stats.parsed,
            "first_ms": statistics.median(first) * 1000,
            "on_demand": getattr(stats, "symbols", 0),
            "listed": stats.listed, "skipped": sum(stats.skipped.values()),
            "workers": getattr(stats, "workers", 0), "rss": peak_rss_mb(),
            "workers_rss": children_rss_mb(),
            "cache_mb": sum(p.stat().st_size for p in cache.iterdir()) / 1e6}


def phase_cold_thread(tree: Path, cache: Path) -> dict[str, float]:
    return phase_cold(tree, cache, workers=0)


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


def phase_sketch(tree: Path, cache: Path) -> dict[str, float]:
    """Names and imports of the sketch beside a parse's, over every file the sketch reads."""
    from collections import Counter

    from ren_lsp.context.files import list_files
    from ren_lsp.context.index import read_text
    from ren_lsp.context.sketch import sketch
    from ren_lsp.context.symbols import extract, language_of

    both = {"names": [0, 0, 0], "imports": [0, 0, 0]}  # agreed, sketched, parsed
    files = 0
    for rel in list_files(tree).files:
        text = read_text(tree / rel)
        found = None if text is None else sketch(language_of(rel), text)
        if text is None or found is None:
            continue
        files += 1
        parsed = extract(rel, text, references=False)
        for name, mine, theirs in (
                ("names", Counter(d[0] for d in found[0]),
                 Counter(d.name for d in parsed.definitions)),
                ("imports", Counter(found[1]), Counter(parsed.imports))):
            counts = both[name]
            counts[0] += sum((mine & theirs).values())
            counts[1] += sum(mine.values())
            counts[2] += sum(theirs.values())
    return {"files": files, **{f"{name}_{what}": counts[0] / max(counts[i], 1)
                               for name, counts in both.items()
                               for what, i in (("precision", 1), ("recall", 2))}}


PHASES = {"read": phase_read, "cold": phase_cold, "cold_thread": phase_cold_thread,
          "warm": phase_warm, "update": phase_update, "query": phase_query,
          "sketch": phase_sketch}


def run_phase(name: str, tree: Path, cache: Path, src: Path | None = None) -> dict[str, float]:
    env = dict(os.environ)
    if src is not None:  # that version's ren_lsp first on the path
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, __file__, "--phase", name, str(tree), str(cache)],
                          capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def stdlib_phases(tree: Path, cache: Path, src: Path | None = None) -> dict[str, dict]:
    """Every standard-library phase, in order, each in its own process."""
    if cache.exists():
        shutil.rmtree(cache)
    found = {"read": run_phase("read", tree, cache, src)}
    if src is None:  # the same cold build in one thread: do worker processes help?
        found["cold_thread"] = run_phase("cold_thread", tree, cache / "thread", src)
    found["cold"] = run_phase("cold", tree, cache, src)
    found["warm"] = run_phase("warm", tree, cache, src)
    found["update"] = run_phase("update", tree, cache, src)
    found["restart"] = run_phase("warm", tree, cache, src)
    found["query"] = run_phase("query", tree, cache, src)
    if src is None:
        found["sketch"] = run_phase("sketch", tree, cache, src)
    return found


def repeated(tree: Path, folder: Path, versions: list[tuple[str, Path | None]],
             rounds: int) -> None:
    """The bars' phases again, ``rounds`` times, the versions taking turns within each round
    (the machine's speed drifts between minutes), in turned order every other round: cold,
    warm, and a restart after one file changed, each version with its own cache. Prints each
    one's median and range."""
    times: dict[str, dict[str, list[float]]] = {name: {} for name, _ in versions}
    for round_ in range(rounds):
        # The order turns too (ABBA): whichever runs first in a round is not always the same.
        order = list(enumerate(versions))
        for number, (name, src) in order if round_ % 2 == 0 else order[::-1]:
            cache = folder / f"repeat{number}-{round_}"
            found = {"cold": run_phase("cold", tree, cache, src),
                     "warm": run_phase("warm", tree, cache, src)}
            run_phase("update", tree, cache, src)
            found["restart after a change"] = run_phase("warm", tree, cache, src)
            for phase, result in found.items():
                times[name].setdefault(phase, []).append(result["seconds"])
            shutil.rmtree(cache)
    print(f"repeated {rounds} times, the versions in turn (median, range):")
    for name, phases in times.items():
        print(f"  [{name}] " + "; ".join(
            f"{phase} {statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"
            for phase, values in phases.items()))


def report(name: str, found: dict[str, dict]) -> None:
    read, cold, warm = found["read"], found["cold"], found["warm"]
    update, restart, query = found["update"], found["restart"], found["query"]
    print(f"[{name}] {cold['listed']:.0f} files indexed ({cold['skipped']:.0f} left out by the "
          "rules)")
    workers = f"{cold['workers']:.0f} worker processes" if cold["workers"] else "one thread"
    ratio = cold["seconds"] / read["seconds"]
    print(f"cold index      {cold['seconds']:7.2f} s   ({cold['parsed']:.0f} read, {workers}; "
          f"reading and decoding alone {read['seconds']:.2f} s: x{ratio:.1f}"
          f"; every file searchable from {cold['lexical']:.2f} s)  cache "
          f"{cold['cache_mb']:.1f} MB   peak RSS {cold['rss']:.0f} MB (workers "
          f"{cold['workers_rss']:.0f} MB)")
    if "first_ms" in cold:
        print(f"  then the first requests: p50 {cold['first_ms']:.0f} ms each "
              f"({cold['on_demand']:.0f} files parsed on demand for 5 requests)")
    if "cold_thread" in found:
        thread = found["cold_thread"]
        gain = thread["seconds"] / cold["seconds"]
        print(f"  in one thread {thread['seconds']:7.2f} s   (lexical search from "
              f"{thread['lexical']:.2f} s): worker processes x{gain:.2f}"
              f"  peak RSS {thread['rss']:.0f} MB")
    print(f"warm start      {warm['seconds']:7.2f} s   ({warm['from_cache']:.0f} from the cache, "
          f"{warm['parsed']:.0f} parsed: x{cold['seconds'] / warm['seconds']:.1f} faster than "
          f"cold, x{warm['seconds'] / read['seconds']:.2f} of plain reading)  "
          f"peak RSS {warm['rss']:.0f} MB")
    print(f"one file edited {update['buffer_ms']:7.1f} ms from the buffer, "
          f"{update['disk_ms']:.1f} ms from disk ({update['parsed']:.0f} parses in all); "
          f"restart after it {restart['seconds']:.2f} s ({restart['parsed']:.0f} parsed)")
    print(f"query           p50 {query['p50_ms']:.1f} ms, p95 {query['p95_ms']:.1f} ms over "
          f"{query['queries']:.0f} requests (median {query['tokens']:.0f} tokens of context)  "
          f"peak RSS {query['rss']:.0f} MB")
    if "sketch" in found:
        sk = found["sketch"]
        print(f"sketch vs parse over {sk['files']:.0f} files: names precision "
              f"{sk['names_precision']:.3f} recall {sk['names_recall']:.3f}, imports precision "
              f"{sk['imports_precision']:.3f} recall {sk['imports_recall']:.3f}")


def compiled(compare: Path | None) -> None:
    """Byte-compile the measured versions' modules, as installing a package does: a machine
    that sets ``PYTHONDONTWRITEBYTECODE`` (this one does) would otherwise make every phase's
    process compile each module it imports (~40 ms of a warm start) and keep none of it."""
    import compileall

    import ren_lsp

    for folder in (Path(ren_lsp.__file__).parent, *([compare / "ren_lsp"] if compare else [])):
        compileall.compile_dir(folder, quiet=1)
    print("modules byte-compiled first, as an installed package's are (--no-bytecode: not)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--compare", type=Path, metavar="SRC",
                        help="a source tree of another ren_lsp version, measured in the same run")
    parser.add_argument("--repeat", type=int, default=0, metavar="N",
                        help="then cold, warm and restart N times more, the versions in turn")
    parser.add_argument("--files", type=int, default=50_000,
                        help="files of the synthetic workspace (default 50,000)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--skip-server", action="store_true",
                       help="only the standard-library phases")
    which.add_argument("--only-server", action="store_true",
                       help="only the synthetic workspace through the server")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="measure without compiling the modules first (each process then "
                             "compiles what it imports when PYTHONDONTWRITEBYTECODE is set)")
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        tree, cache = (Path(p) for p in args.paths)
        print(json.dumps(PHASES[args.phase](tree, cache)))
        return
    from context_scale import (
        cli_cold,
        code_actions_while_indexing,
        machine,
        read_all,
        synthetic_workspace,
    )

    print(f"machine: {machine()}; Python {sys.version.split()[0]}")
    if not args.no_bytecode:
        compiled(args.compare)
    with tempfile.TemporaryDirectory() as temporary:
        if not args.only_server:
            tree = copy_stdlib(Path(temporary))
            print(f"tree: the standard library of Python {sys.version.split()[0]}")
            report("this version", stdlib_phases(tree, Path(temporary) / "cache"))
            if args.compare is not None:
                report(f"baseline {args.compare}", stdlib_phases(
                    tree, Path(temporary) / "cache-baseline", args.compare.resolve()))
            if args.repeat:
                repeated(tree, Path(temporary), [("this version", None)] + (
                    [(f"baseline {args.compare}", args.compare.resolve())]
                    if args.compare is not None else []), args.repeat)
        if args.skip_server:
            return
        big = synthetic_workspace(Path(temporary) / "big", args.files)
        plain, count = read_all(big)
        first = next(big.rglob("*.py"))
        versions: list[tuple[str, Path | None]] = [("this version", None)]
        if args.only_server and args.compare is not None:
            versions.append((f"baseline {args.compare}", args.compare.resolve()))
        for number, (name, src) in enumerate(versions):
            served = asyncio.run(code_actions_while_indexing(
                big, first, first.read_text(encoding="utf-8"),
                Path(temporary) / f"server{number}", src))
            print(f"[{name}] {count:,} synthetic files through the server (stdio): indexed in "
                  f"{served['built_s']:.1f} s (plain reading {plain:.1f} s: "
                  f"x{served['built_s'] / plain:.1f}); codeAction while indexing p50 "
                  f"{served['p50_ms']:.1f} ms, p99 {served['p99_ms']:.1f} ms, max "
                  f"{served['max_ms']:.0f} ms ({served['max_at_s']:.1f} s after the start) over "
                  f"{served['requests']:.0f} requests; idle "
                  f"after p50 {served['idle_p50_ms']:.1f} ms, p99 {served['idle_p99_ms']:.1f} "
                  f"ms, max {served['idle_max_ms']:.0f} ms (p99 x"
                  f"{served['p99_ms'] / served['idle_p99_ms']:.1f} idle); server peak RSS "
                  f"{served['rss']:.0f} MB")
        if args.only_server:
            return
        cli = cli_cold(Path(temporary))
        print(f"ren-lsp context, cold 100-file workspace: p50 {cli['p50_ms']:.0f} ms including "
              f"process start (the interpreter alone {cli['python_ms']:.0f} ms: "
              f"x{cli['p50_ms'] / cli['python_ms']:.1f}); costliest imports: {cli['imports']}")


if __name__ == "__main__":
    main()
