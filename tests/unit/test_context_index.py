"""The index stays current without rescans: edits re-parse only what changed, a restart reuses
the disk cache, a build runs in the background while queries use what is indexed so far."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from ren_lsp.config import Settings
from ren_lsp.context import ContextEngine
from tests.context_repo import READABLE, write_repo


@pytest.fixture(params=["git", "plain"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return write_repo(tmp_path / "shop", use_git=request.param == "git")


def engine_for(root: Path, **settings: object) -> ContextEngine:
    return ContextEngine([root], Settings(**settings), cache_dir=root.parent / "cache")


def touch_later(path: Path, text: str) -> None:
    """Write ``text`` with a modification time surely different from the last one."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


async def test_a_build_reports_progress_and_indexes_everything(root: Path) -> None:
    engine = engine_for(root)
    reports: list[tuple[int, int]] = []
    await engine.build(progress=lambda done, total: reports.append((done, total)))
    assert sorted(engine.index.records) == READABLE
    total = len(READABLE) + 1  # and the binary file only reading tells apart
    assert reports[0] == (0, total) and reports[-1] == (total, total)
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    assert engine.stats.parsed == total


async def test_queries_during_a_build_use_what_is_indexed_so_far(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ren_lsp.context import index as index_module

    monkeypatch.setattr(index_module, "BATCH", 4)
    engine = engine_for(root)
    halfway = asyncio.Event()

    def progress(done: int, total: int) -> None:
        if done >= 8:
            halfway.set()

    task = asyncio.create_task(engine.build(progress))
    await halfway.wait()  # the build yields between batches: the loop stays responsive
    partial = engine.query(question="invoices")  # answers at once, from a partial index
    assert 0 < len(engine.index.records) < len(READABLE)
    assert all(f.path in engine.index.records for f in partial.files)
    await task
    assert sorted(engine.index.records) == READABLE


def test_a_buffer_edit_parses_one_file(root: Path) -> None:
    engine = engine_for(root)
    engine.build_sync()
    before = engine.stats.parsed
    engine.update(root / "app" / "money.py",
                  "def round_cents(amount):\n    return int(amount)\n\n"
                  "def to_euros(cents):\n    return cents / 100\n")
    assert engine.stats.parsed == before + 1
    assert set(engine.index.definers("to_euros")) == {"app/money.py"}
    assert "Money" not in engine.index.defined_in  # the class left the buffer
    result = engine.query(question="convert cents to euros", budget=4000)
    assert result.files[0].path == "app/money.py"
    assert "def to_euros" in result.text  # the buffer's text, not the disk's


def test_a_saved_file_parses_once_and_an_unchanged_one_not_at_all(root: Path) -> None:
    engine = engine_for(root)
    engine.build_sync()
    before = engine.stats.parsed
    engine.update(root / "app" / "billing.py")  # didSave with nothing changed on disk
    assert engine.stats.parsed == before
    touch_later(root / "app" / "billing.py", "def invoice_total():\n    return 0\n")
    engine.update(root / "app" / "billing.py")
    assert engine.stats.parsed == before + 1
    assert "invoice_total" in engine.index.defined_in and "Invoice" not in engine.index.defined_in


def test_a_new_file_and_a_deleted_one(root: Path) -> None:
    engine = engine_for(root)
    engine.build_sync()
    before = engine.stats.parsed
    touch_later(root / "app" / "refunds.py", "from app.money import Money\n\n"
                "def refund(invoice):\n    return Money(0)\n")
    assert engine.update(root / "app" / "refunds.py")
    assert engine.stats.parsed == before + 1
    money = engine.query(current=root / "app" / "money.py")
    assert "app/refunds.py" in [f.path for f in money.files]  # a new importer, resolved
    (root / "app" / "refunds.py").unlink()
    engine.remove(root / "app" / "refunds.py")
    assert "app/refunds.py" not in engine.index.records
    assert "refund" not in engine.index.defined_in
    assert engine.stats.parsed == before + 1


def test_secret_and_ignored_files_are_refused_on_update(root: Path) -> None:
    engine = engine_for(root)
    engine.build_sync()
    assert not engine.update(root / ".env", "TOKEN=sk-live-abcdefghijklmnop123\n")
    assert not engine.update(root / "debug.log")
    assert not engine.update(root / "node_modules" / "left-pad" / "index.js")
    assert sorted(engine.index.records) == READABLE


def test_a_second_build_parses_nothing(root: Path) -> None:
    engine = engine_for(root)
    engine.build_sync()
    before = engine.stats.parsed
    engine.build_sync()
    assert engine.stats.parsed == before


def test_a_restart_reuses_the_cache(root: Path) -> None:
    first = engine_for(root)
    first.build_sync()
    second = engine_for(root)
    second.build_sync()
    assert second.stats.parsed == 0
    assert second.stats.from_cache == len(READABLE) + 1
    assert second.index.records == first.index.records
    question = "how is an amount rounded to whole cents"
    assert second.query(question=question) == first.query(question=question)


def test_a_restart_after_a_change_parses_only_the_change(root: Path) -> None:
    engine_for(root).build_sync()
    touch_later(root / "web" / "src" / "format.ts",
                "export function formatPrice(cents: number): string { return `${cents}`; }\n")
    restarted = engine_for(root)
    restarted.build_sync()
    assert restarted.stats.parsed == 1
    assert restarted.stats.from_cache == len(READABLE)


def test_a_broken_cache_means_indexing_afresh(root: Path) -> None:
    engine_for(root).build_sync()
    for path in (root.parent / "cache").iterdir():
        path.write_bytes(b"\x00garbage")
    engine = engine_for(root)
    engine.build_sync()
    assert engine.stats.parsed == len(READABLE) + 1


def test_a_changed_renignore_takes_effect_on_the_next_build(root: Path) -> None:
    engine = engine_for(root)
    engine.build_sync()
    before = engine.stats.parsed
    touch_later(root / ".renignore", "docs/private/\nnative/\n")
    engine.update(root / ".renignore")
    assert engine.index.stale
    engine.build_sync()
    assert not any(key.startswith("native/") for key in engine.index.records)
    assert engine.stats.parsed == before + 1  # the .renignore itself; nothing else re-read


def test_new_settings_change_the_rules(root: Path) -> None:
    engine = engine_for(root)
    engine.build_sync()
    engine.configure(Settings(ignore_files=("web/",), context_budget=300))
    engine.build_sync()
    assert not any(key.startswith("web/") for key in engine.index.records)
    assert engine.query(question="invoices").tokens <= 300
