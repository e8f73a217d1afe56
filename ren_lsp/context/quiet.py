"""The cyclic garbage collector held off while a burst of long-lived objects is made.

Loading a cache or taking a batch of results in makes hundreds of thousands of dicts, strings
and records that live as long as the index and form no cycles. Every few hundred new objects
the collector would walk the young ones and free nothing: 40 ms of a 300 ms restart, more of
a build. After the burst one young collection walks what it made once (the index keeps few
objects the collector tracks: ``Tables.defined_in`` holds strings, not sets, for names defined
once). Nested and concurrent bursts share one pause: the collector comes back, as it was, when
the last one ends.

That one collection walks everything the burst made at once: ~13 ms for the standard
library's records, proportionally more for 50,000 files, with the interpreter's lock held.
(Freezing and at once thawing, which would hand it all to the oldest generation, does not do:
freezing resets the collector's counts, so with builds in a loop the oldest generation is never
collected, and the cycles of a program that builds often pile up.) A program
whose index lives as long as it does (the language server, while it builds) asks for
``freeze_after_bursts``: what a burst made then goes to the permanent generation
(``gc.freeze``), which no collection walks; frozen objects are still freed when their last
reference goes, but a cycle among them never is, so it is for builds only, whose records form
none (cyclic garbage of the moment is frozen with them).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_bursts = 0
_was_enabled = False
_freeze = False


def freeze_after_bursts(on: bool = True) -> None:
    """Hand what each burst made to the permanent generation (see above)."""
    global _freeze
    _freeze = on


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection inside the block (its garbage is collected after it)."""
    global _bursts, _was_enabled
    with _lock:
        if not _bursts:
            _was_enabled = gc.isenabled()
            gc.disable()
        _bursts += 1
    try:
        yield
    finally:
        with _lock:
            _bursts -= 1
            if not _bursts:
                if _freeze:
                    gc.freeze()
                if _was_enabled:
                    gc.enable()
