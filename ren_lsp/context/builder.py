"""Running one build: in batches in a worker thread, or in worker processes.

A small build (under ``SKETCH_FILES`` files to read) reads and parses each file in one pass, in
one worker thread, a batch at a time. A large one reads each file's words and sketches its
definitions and imports (``build.lexical_pass``, no parse: ``sketch.py``); tree-sitter runs on
demand later (``Index.ensure_symbols``), for the files a request ranks highest. With
``POOL_FILES`` files or more, the work runs in worker processes (one per core, at a lower
priority than the editor's process). Results are taken in a batch at a time, so queries see each
batch as it lands and requests are answered between them.
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ren_lsp.context import build
from ren_lsp.context.cache import lexical_of
from ren_lsp.context.quiet import collection_paused
from ren_lsp.context.records import FileRecord, make_record, read_source

if TYPE_CHECKING:
    from ren_lsp.context.index import Index
    from ren_lsp.context.postings import Segment

#: from this many files to read, definitions are sketched, and parsed on demand
SKETCH_FILES = 400
#: from this many files to read, worker processes (starting them costs a few hundred ms)
POOL_FILES = 400
#: files per task sent to a worker process
POOL_BATCH = 64
#: records from the disk cache taken in at a time
LOADED_BATCH = 2000
#: tasks submitted between two turns of the event loop
SUBMIT_STEP = 16


@attrs.define
class Plan:
    """What a build has to do, once the roots are listed and the cache consulted."""

    total: int
    #: (key, root index, rel) of the files to read
    to_read: list[tuple[str, int, str]] = attrs.Factory(list)
    #: key -> the size its stat gave, of the files to read
    sizes: dict[str, int] = attrs.Factory(dict)


def make_plan(index: Index) -> Plan:
    """List the roots, stat each file, reuse what is unchanged (in memory, else in the disk
    cache); the rest is to read. Runs in a worker thread."""
    if index.stale:
        index._rules = None
        index.stale = False
    listed: dict[str, tuple[int, str]] = {}
    stats: list[dict[str, tuple[int, int]]] = []
    skipped: dict[str, int] = {}
    for root, rules in enumerate(index.rules()):
        listing = rules.listing()
        stats.append(listing.stats)
        for reason, count in listing.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + count
        for rel in listing.files:
            listed[index.key_for(root, rel)] = (root, rel)
    index.stats.listed, index.stats.skipped = len(listed), skipped
    with index.lock:
        gone = [key for key, record in index.records.items()
                if record.root >= 0 and key not in listed and not record.from_buffer]
        for key in [key for key in index.unreadable if key not in listed]:
            del index.unreadable[key]
    for key in gone:
        index._drop(key)
    return _reuse(index, listed, stats)


@collection_paused()
def _reuse(index: Index, listed: dict[str, tuple[int, str]],
           stats: list[dict[str, tuple[int, int]]]) -> Plan:
    """The plan's second half: what of the listed files is unchanged in memory or in the disk
    cache is kept (a burst of records: no garbage collection meanwhile), the rest is to read."""
    loads = [index._load_cache(root) for root in range(len(index.roots))]
    cached = [entries for entries, _, _ in loads]
    segments = [segment for _, _, segment in loads]
    # One root's saved tables are taken as they are, less what its stale entries counted.
    tables = loads[0][1] if len(loads) == 1 and not index.records else None
    bases = [root.as_posix() for root in index.roots]
    plan = Plan(len(listed))
    loaded: list[FileRecord] = []  # taken in together: a restart makes thousands at once
    for key, (root, rel) in listed.items():
        name = f"{bases[root]}/{rel}"
        now = stats[root].get(rel)  # as listed, a moment ago
        if now is None:
            try:
                stat = os.stat(name)
            except OSError:
                continue
            now = (stat.st_size, stat.st_mtime_ns)
        current = index.records.get(key)  # one read of a dict: the lock adds nothing
        if current is not None and current.from_buffer:
            index.stats.kept += 1
            continue
        if current is not None and _unchanged(index, key, current.digest, (
                current.size, current.mtime_ns), now, name):
            index.stats.kept += 1
            if (current.size, current.mtime_ns) != now:  # the same bytes, written again
                index._put(attrs.evolve(current, size=now[0], mtime_ns=now[1]))
            continue
        known = index.unreadable.get(key)
        if known is not None and _unchanged(index, key, known[4], known[2:4], now, name):
            index.stats.kept += 1
            continue
        entry = cached[root].get(rel)
        if entry is not None:
            size, mtime_ns, sure, digest, lexical, symbols = entry
            if sure:
                index._unsure.discard(key)
            else:
                index._unsure.add(key)
            if _unchanged(index, key, digest, (size, mtime_ns), now, name):
                index.stats.from_cache += 1
                if lexical is None or symbols is None:  # read before: binary or minified
                    index.unreadable[key] = (root, rel, *now, digest)
                else:
                    record = make_record(key, name, root, rel, *now, digest,
                                         lexical_of(lexical, segments[root]), symbols,
                                         index.secret_patterns)
                    if current is not None:  # an older text in memory: the cache's is the file's
                        index._put(record, dirty=False)
                        continue
                    # New to the index: taken in below, unless the editor indexes it meanwhile.
                    loaded.append(record)
                    if len(loaded) >= LOADED_BATCH and tables is None:  # queries see these
                        index._put_many(loaded)
                        loaded = []
                continue
        plan.to_read.append((key, root, rel))
        plan.sizes[key] = now[0]
    index.stats.saved_tables = tables is not None and segments[0] is not None and (
        index._take_with_tables(loaded, tables, segments[0],
                                _stale(index, cached[0], segments[0], loaded)))
    if not index.stats.saved_tables:
        index._put_many(loaded)
    return plan


def _stale(index: Index, entries: dict[str, Any], segment: Segment | None,
           loaded: list[FileRecord]) -> list[FileRecord]:
    """The records of a root's cache entries that were not taken (their files changed or
    went): what the saved tables counted that the index will not hold."""
    taken = {record.rel for record in loaded}
    base = index.roots[0].as_posix()
    assert segment is not None or not entries  # entries come with their postings
    return [make_record(index.key_for(0, rel), f"{base}/{rel}", 0, rel, size, mtime_ns, digest,
                        lexical_of(lexical, segment), symbols, index.secret_patterns)
            for rel, (size, mtime_ns, _, digest, lexical, symbols) in entries.items()
            if rel not in taken and lexical is not None and symbols is not None]


def _unchanged(index: Index, key: str, digest: str, known: tuple[int, int],
               now: tuple[int, int], name: str) -> bool:
    """Whether a file is what was indexed: by its stat when that is sure, else its bytes."""
    if known == now and key not in index._unsure:
        return True
    if not digest:
        return False
    read_ns = time.time_ns()
    index.stats.hashed += 1
    if read_source(Path(name))[1] != digest:
        return False
    index._dirty = True  # a new stat, or now a sure one
    index._sure_after(key, now[1], read_ns)
    return True


class Builder:
    """One build's passes over a plan."""

    def __init__(self, index: Index, plan: Plan,
                 progress: Callable[[int, int], None] | None) -> None:
        self.index, self.plan, self.progress = index, plan, progress
        self.done = plan.total - len(plan.to_read)

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.plan.total)

    def workers(self) -> int:
        """How many worker processes the plan's work takes (0: this process does it)."""
        index = self.index
        workers = build.default_workers() if index.workers is None else index.workers
        return workers if workers > 0 and len(self.plan.to_read) >= POOL_FILES else 0

    def _function(self, use_pool: bool) -> Callable[..., list[build.Result]]:
        sketch = len(self.plan.to_read) >= SKETCH_FILES or use_pool
        return build.lexical_pass if sketch else build.full_pass

    def run_here(self) -> None:
        """``run`` in the calling thread, for a plan that needs no worker process (a command
        line's build: no event loop to keep answering)."""
        from ren_lsp.context import index as index_module

        plan, index = self.plan, self.index
        index.total = plan.total
        index.stats.workers = 0
        self._report()
        function = self._function(False)
        for root, batch in _batches_of(plan.to_read, index_module.BATCH):
            index.apply(root, *build.packed(function, index.roots[root].as_posix(),
                                            index.secret_patterns, batch,
                                            index.allocate(root, len(batch))))
            self.done += len(batch)
            self._report()

    async def run(self) -> None:
        """Read what the plan says, reporting progress after each batch."""
        import asyncio

        from ren_lsp.context import index as index_module

        plan, index = self.plan, self.index
        index.total = plan.total
        self._report()
        workers = self.workers()
        use_pool = workers > 0
        index.stats.workers = workers
        size = POOL_BATCH if use_pool else index_module.BATCH
        # Starting the workers (spawning each, sending it its start-up data) takes ~100 ms:
        # off the event loop, which answers requests meanwhile.
        executor = (await asyncio.get_running_loop().run_in_executor(
                        None, build.pool, workers, index.worker_niceness) if use_pool else
                    concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ren-index"))
        try:
            await self._pass(executor, self._function(use_pool), size)
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    async def _pass(self, executor: concurrent.futures.Executor,
                    function: Callable[..., list[build.Result]], size: int) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        index, patterns = self.index, self.index.secret_patterns
        futures: list[tuple[int, int, asyncio.Future[build.Batch]]] = []
        # Grouping 50,000 files takes tens of milliseconds: in a thread too.
        batches = await loop.run_in_executor(None, _largest_first, index, self.plan, size)
        for number, (root, batch) in enumerate(batches):
            futures.append((root, len(batch), loop.run_in_executor(executor, functools.partial(
                build.packed, function, index.roots[root].as_posix(), patterns, batch,
                index.allocate(root, len(batch))))))
            if number % SUBMIT_STEP == SUBMIT_STEP - 1:
                await asyncio.sleep(0)  # a large plan's submissions: requests between them
        # Taking results in holds the GIL: in a thread, which hands it back every switch
        # interval, rather than on the loop, which would answer nothing meanwhile.
        for root, count, future in futures:
            results, words = await future
            await loop.run_in_executor(None, index.apply, root, results, words)
            self.done += count
            self._report()


def _largest_first(index: Index, plan: Plan, size: int) -> list[tuple[int, list[Any]]]:
    """The plan's batches, the largest (in bytes) first: the workers end together rather than
    one finishing a large last batch alone (~0.1 s of a standard-library build)."""
    sizes = plan.sizes
    return sorted(_batches_of(plan.to_read, size), key=lambda batch: -sum(
        sizes.get(index.key_for(batch[0], rel), 0) for rel in batch[1]))


def _batches_of(to_read: list[tuple[str, int, str]], size: int) -> list[tuple[int, list[Any]]]:
    """The files to read, grouped by root, ``size`` at a time."""
    by_root: dict[int, list[str]] = {}
    for _, root, rel in to_read:
        by_root.setdefault(root, []).append(rel)
    return [(root, rels[start:start + size]) for root, rels in by_root.items()
            for start in range(0, len(rels), size)]
