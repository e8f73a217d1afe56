"""What does the first pass of an index build cost, before and after it was made fast?

Over the standard library of the running Python (copied to a temporary folder, or ``--tree``),
each readable file as the index reads it: ``secrets.redact`` (the baseline: the implementation
of d4c25f0, kept in ``first_pass_oracle.py``), then ``records.lexical_fields`` over the
redacted text (and the two parts of it that changed, alone), old and new in alternating order
in the same run. Prints the CPU time of this process for each (the median of ``--rounds``; CPU
time, not wall time, since these machines are shared; the garbage collector off), their ratio,
and how many files gave a different result (secrets' spans and kinds; every field of the first
pass, dictionaries in the same order): it must be 0, else the script exits 1.

    .venv/bin/python bench/first_pass.py [--tree DIR] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.context import copy_stdlib
from bench.context_scale import machine
from bench.first_pass_oracle import (
    old_comment_text,
    old_file_kind,
    old_lexical_fields,
    old_redact,
)
from ren_lsp.context.files import list_files
from ren_lsp.context.kinds import file_kind
from ren_lsp.context.records import comment_text, lexical_fields, read_text
from ren_lsp.context.secrets import redact
from ren_lsp.context.symbols import language_of


def timed(step: Callable[[Any], Any], inputs: list[Any]) -> tuple[float, list[Any]]:
    """The CPU time of ``step`` over ``inputs``, with the cyclic garbage collector off (as
    ``timeit`` does): the results kept for the comparison would make its passes, which walk
    everything kept so far, land on whichever side happens to run when one is due."""
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        results = [step(item) for item in inputs]
        return time.process_time() - started, results
    finally:
        gc.enable()


def ordered(lexical: tuple[Any, ...]) -> list[Any]:
    """A first pass's fields with its dictionaries as lists (so that their order counts)."""
    return [list(f.items()) if isinstance(f, dict) else f for f in lexical]


def compare(name: str, old: Callable[[Any], Any], new: Callable[[Any], Any],
            inputs: list[Any], rounds: int, same: Callable[[Any, Any], bool]) -> int:
    """Time both over ``inputs`` (alternating), print the medians, return how many differ."""
    old_times, new_times = [], []
    differ = 0
    for round_ in range(rounds):
        if round_ % 2:
            new_time, new_out = timed(new, inputs)
            old_time, old_out = timed(old, inputs)
        else:
            old_time, old_out = timed(old, inputs)
            new_time, new_out = timed(new, inputs)
        old_times.append(old_time)
        new_times.append(new_time)
        differ = max(differ, sum(not same(a, b) for a, b in zip(old_out, new_out, strict=True)))
    base, ours = statistics.median(old_times), statistics.median(new_times)
    print(f"{name:16s} baseline {base:6.3f} s   new {ours:6.3f} s   "
          f"ratio {base / ours:5.1f}x   files that differ: {differ}")
    return differ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, help="a tree to read instead of a stdlib copy")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}; Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as temporary:
        tree = args.tree or copy_stdlib(Path(temporary))
        listing = list_files(tree)
        texts = [(rel, text) for rel in listing.files
                 if (text := read_text(tree / rel)) is not None]
    size = sum(len(text) for _, text in texts)
    print(f"tree: {tree if args.tree else 'the standard library'}: {len(texts)} readable files, "
          f"{size / 1e6:.1f} M characters; CPU time, median of {args.rounds} rounds")
    differ = compare("redact", lambda item: old_redact(item[1]),
                     lambda item: redact(item[1]), texts, args.rounds,
                     lambda a, b: a == b)
    clean = [(rel, redact(text)[0]) for rel, text in texts]
    differ += compare("lexical_fields", lambda item: old_lexical_fields(*item),
                      lambda item: lexical_fields(*item), clean, args.rounds,
                      lambda a, b: ordered(a) == ordered(b))
    # the parts of the first pass that changed, alone
    differ += compare("  comment_text",
                      lambda item: old_comment_text(language_of(item[0]), item[1]),
                      lambda item: comment_text(language_of(item[0]), item[1]), clean,
                      args.rounds, lambda a, b: a == b)
    differ += compare("  file_kind", lambda item: old_file_kind(item[0], item[1][:2000]),
                      lambda item: file_kind(item[0], item[1][:2000]), clean, args.rounds,
                      lambda a, b: a == b)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
