"""The collector's pause around a burst of long-lived objects (``quiet.py``)."""

from __future__ import annotations

import gc
import threading

from ren_lsp.context.quiet import collection_paused


def test_the_collector_comes_back_when_the_last_of_nested_and_concurrent_bursts_ends() -> None:
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def other_burst() -> None:
        with collection_paused():
            inside.set()
            release.wait(30)

    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():  # nested: still paused after it
            pass
        assert not gc.isenabled()
        thread = threading.Thread(target=other_burst)
        thread.start()
        assert inside.wait(30)
    assert not gc.isenabled()  # the other thread's burst still runs
    release.set()
    thread.join(30)
    assert gc.isenabled()


def test_a_collector_the_program_turned_off_stays_off_and_an_error_ends_the_pause() -> None:
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    try:
        with collection_paused():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.isenabled()


def test_a_program_that_keeps_its_index_has_each_bursts_objects_frozen() -> None:
    from ren_lsp.context import quiet

    made: list[dict[str, list[int]]] = []
    quiet.freeze_after_bursts()
    try:
        with collection_paused():
            made.extend({"k": [n]} for n in range(1000))
        frozen = gc.get_freeze_count()
        assert frozen >= 1000  # out of every later collection's walk
    finally:
        quiet.freeze_after_bursts(False)
        gc.unfreeze()
    with collection_paused():
        made.extend({"k": [n]} for n in range(1000))
    assert gc.get_freeze_count() == 0 and gc.isenabled()
