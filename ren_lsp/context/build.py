"""The work per file of a build, and where it runs.

Functions here take plain values and return plain values, so that a large build can run them
in worker processes (``pool``): parsing with tree-sitter holds the interpreter's lock, and in
other processes it neither blocks the editor's requests nor waits for them. Each returns, per
file, a ``Result``: ``(rel, size, mtime_ns, read_ns, digest, lexical, symbols)``: both None
for a file that turned out binary, minified or unreadable; ``lexical`` None when only the
definitions were read again (``symbols_pass`` over an unchanged file).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import marshal
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ren_lsp.context import postings
from ren_lsp.context.quiet import collection_paused
from ren_lsp.context.records import (
    Lexical,
    Symbols,
    lexical_fields,
    read_source,
    sketch_fields,
    symbol_fields,
)
from ren_lsp.context.secrets import redact

Result = tuple[str, int, int, int, str, Lexical | None, Symbols | None]
#: a batch's results, their bags packed, and their postings (``packed``)
Batch = tuple[list[Result], dict[str, postings.Field]]


def _stat(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return -1, 0
    return stat.st_size, stat.st_mtime_ns


def _read(root: str, rel: str) -> tuple[Path, int, int, int, str | None, str]:
    path = Path(root) / rel
    size, mtime_ns = _stat(path)  # before reading: a write after it shows as a change later
    read_ns = time.time_ns()
    text, digest = read_source(path)
    return path, size, mtime_ns, read_ns, text, digest


@collection_paused()
def full_pass(root: str, patterns: Sequence[str], rels: Sequence[str]) -> list[Result]:
    """Both passes over each file (a small build: one read per file)."""
    results: list[Result] = []
    for rel in rels:
        _, size, mtime_ns, read_ns, text, digest = _read(root, rel)
        if text is None:
            results.append((rel, size, mtime_ns, read_ns, digest, None, None))
            continue
        clean, redactions = redact(text, patterns)
        results.append((rel, size, mtime_ns, read_ns, digest,
                        lexical := lexical_fields(rel, clean, redactions),
                        symbol_fields(rel, clean, lexical[5])))
    return results


@collection_paused()
def lexical_pass(root: str, patterns: Sequence[str], rels: Sequence[str]) -> list[Result]:
    """A large build's pass: read, hash, redact, count words and sketch the definitions and
    imports (``sketch.py``); no parse."""
    results: list[Result] = []
    for rel in rels:
        _, size, mtime_ns, read_ns, text, digest = _read(root, rel)
        lexical = symbols = None
        if text is not None:
            clean, redactions = redact(text, patterns)
            lexical = lexical_fields(rel, clean, redactions)
            symbols = sketch_fields(rel, clean, lexical[5])
        results.append((rel, size, mtime_ns, read_ns, digest, lexical, symbols))
    return results


@collection_paused()
def packed(function: Callable[[str, Sequence[str], Sequence[str]], list[Result]], root: str,
           patterns: Sequence[str], rels: Sequence[str], first_doc: int
           ) -> Batch:
    """A build's batch: ``function``'s results with their body's and comments' bags packed,
    numbered from ``first_doc`` in ``rels``' order, and their postings (``postings.py``).

    What a worker sends back is then mostly bytes: the editor's process unpickles no dict of
    each file's words nor tuple of each definition, and the cache writes them as they are.
    """
    results = function(root, patterns, rels)
    lexicals, words = postings.batch([(first_doc + number, result[5])
                                      for number, result in enumerate(results)
                                      if result[5] is not None])
    packed_lexicals = iter(lexicals)
    return [result if result[5] is None else (*result[:5], next(packed_lexicals),
                                              packed_symbols(result[6]))
            for result in results], words


def packed_symbols(symbols: Symbols | None) -> Symbols | None:
    """Definitions and imports with the definitions packed, as the cache holds them (their
    names in a sixth place): a worker packs them, the editor's process unpacks none."""
    if symbols is None:
        return None
    definitions = symbols[0]
    return (marshal.dumps(tuple(definitions)), *symbols[1:5], tuple(d[0] for d in definitions))


def symbols_pass(root: str, patterns: Sequence[str],
                 items: Sequence[tuple[str, str, bool]]) -> list[Result]:
    """The parse of files whose definitions were sketched: ``(rel, digest, redacted)`` each.

    A file whose digest is the one sketched needs no redaction when none was found then; one
    that changed meanwhile is read whole again (``lexical`` is then not None).
    """
    results: list[Result] = []
    for rel, expected, redacted in items:
        _, size, mtime_ns, read_ns, text, digest = _read(root, rel)
        if text is None:
            results.append((rel, size, mtime_ns, read_ns, digest, None, None))
            continue
        changed = digest != expected
        clean, redactions = redact(text, patterns) if changed or redacted else (text, 0)
        lexical = lexical_fields(rel, clean, redactions) if changed else None
        results.append((rel, size, mtime_ns, read_ns, digest, lexical,
                        symbol_fields(rel, clean)))
    return results


def _worker_started(niceness: int) -> None:
    """A worker's first steps: yield the cores to the editor (``niceness``), and end with the
    parent. (No grammar is loaded: a worker sketches definitions, it parses none.)"""
    if niceness:
        with contextlib.suppress(OSError):  # not permitted here: the same priority then
            os.nice(niceness)
    # A server that ends at once (the editor's ``exit``, a kill) cannot shut its pool down:
    # a worker left waiting for work would live on, so it ends when its parent does.
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True,
                         name="ren-lsp-parent-watch").start()


def _end_with(sentinel: int) -> None:
    """End this worker process as soon as ``sentinel`` (its parent's) says the parent ended."""
    import multiprocessing.connection

    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def default_workers() -> int:
    """How many worker processes a large build uses: one per core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores


def _ready() -> bool:
    return True


def pool(workers: int, niceness: int = 0) -> concurrent.futures.Executor:
    """Worker processes for a build, all started now.

    They are spawned, not forked (forking a server with threads can copy a held lock), and
    without importing the program's main module again, as spawning would by default: the
    workers need only this module, and a main module without an ``if __name__`` guard (a
    console script's, ``python -m ren_lsp``) would start a second program in each.
    """
    import multiprocessing  # only a large build needs it (a restart imports less)

    context: Any = multiprocessing.get_context("spawn")
    executor = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                      initializer=_worker_started,
                                                      initargs=(niceness,))
    main = sys.modules["__main__"]
    spec, path = getattr(main, "__spec__", None), main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:  # each submit starts a worker while none is idle, up to ``workers``
        started = [executor.submit(_ready) for _ in range(workers)]
    finally:
        main.__spec__ = spec
        if path is not None:
            main.__file__ = path
    del started
    return executor
