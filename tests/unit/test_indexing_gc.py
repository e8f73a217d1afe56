"""What keeps a large build from stalling the editor: the garbage collector's full collections
kept away from it, and one LSP converter for every request instead of one per call."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from lsprotocol import types

from ren_lsp.lsp.documents import converter
from ren_lsp.lsp.indexing import NO_FULL_COLLECTION, QuietCollector


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    """The process's collector as it was, restored after the test (and nothing left frozen)."""
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)
    gc.unfreeze()


def test_no_full_collection_while_a_build_runs(thresholds: tuple[int, int, int]) -> None:
    collector = QuietCollector()
    with collector:
        assert gc.get_threshold() == (thresholds[0], thresholds[1], NO_FULL_COLLECTION)
    assert gc.get_threshold() == thresholds


def test_overlapping_builds_restore_the_thresholds_when_the_last_ends(
        thresholds: tuple[int, int, int]) -> None:
    collector = QuietCollector()
    with collector:
        with collector:
            pass
        # The first build still runs: still no full collection.
        assert gc.get_threshold()[2] == NO_FULL_COLLECTION
    assert gc.get_threshold() == thresholds


class Node:
    """A reference cycle's member (weakly referenceable, so the test sees it go)."""

    def __init__(self) -> None:
        self.me = self


def test_the_young_cycles_of_a_build_are_collected_when_it_ends(
        thresholds: tuple[int, int, int]) -> None:
    collector = QuietCollector()
    with collector:
        node = Node()
        gone = weakref.ref(node)
        del node  # garbage, but only the cyclic collector can free it
        assert gone() is not None
    assert gone() is None


def test_one_converter_for_every_request() -> None:
    assert converter() is converter()
    position = converter().unstructure(types.Position(line=3, character=1))
    assert position == {"line": 3, "character": 1}
    # camelCase on the wire, snake_case in Python
    params = converter().structure({"textDocument": {"uri": "file:///a.py"}},
                                   types.DidCloseTextDocumentParams)
    assert params.text_document.uri == "file:///a.py"


def test_bursts_of_records_are_frozen_during_builds_only(
        thresholds: tuple[int, int, int]) -> None:
    from ren_lsp.context.quiet import collection_paused

    collector = QuietCollector()
    with collector:
        frozen = gc.get_freeze_count()
        with collection_paused():  # a batch taken in during the build: kept with the index
            records = [{"terms": {f"t{n}": n}} for n in range(1000)]
        assert gc.get_freeze_count() >= frozen + len(records)
    gc.unfreeze()
    with collection_paused():  # after it (a request's parse on demand): nothing is frozen
        node = Node()
        gone = weakref.ref(node)
        del node
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None  # the cycle made in the burst was collected, not kept forever
