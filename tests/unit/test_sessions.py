"""The session limit and the history file: small parts with logic of their own."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ren_lsp.lsp.output import record_history
from ren_lsp.lsp.sessions import Slots


async def test_slots_hold_the_limit_and_follow_its_changes() -> None:
    limit = [1]
    slots = Slots(lambda: limit[0])
    entered = [asyncio.Event() for _ in range(3)]
    release = asyncio.Event()

    async def session(n: int) -> None:
        async with slots:
            entered[n].set()
            await release.wait()

    tasks = [asyncio.create_task(session(n)) for n in range(3)]
    await asyncio.wait_for(entered[0].wait(), 5)
    assert slots.locked() and not entered[1].is_set() and not entered[2].is_set()
    limit[0] = 2  # a settings change: it counts as soon as a slot is given back
    tasks[0].cancel()  # a cancelled session gives its slot back
    await asyncio.wait_for(asyncio.gather(entered[1].wait(), entered[2].wait()), 5)
    assert slots.locked()  # two run: the new limit, not more
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert not slots.locked()


def test_the_history_is_rotated_past_its_limit(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    for n in range(5):
        record_history({"session": str(n), "answer": "x" * 40}, limit=100)
    folder = tmp_path / "ren-lsp"
    current = [json.loads(line)["session"] for line in
               (folder / "history.jsonl").read_text().splitlines()]
    older = [json.loads(line)["session"] for line in
             (folder / "history.1.jsonl").read_text().splitlines()]
    # Moved aside when over the limit; one older file is kept, so the history stays bounded.
    assert current == ["4"] and older == ["2", "3"]
