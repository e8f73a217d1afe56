"""Ranking and rendering on a small multi-language workspace: the right files first for
selections, questions and the current file; ignored and secret files never in the context;
secrets inside sent files redacted; the budget kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ren_lsp.context import ContextEngine
from ren_lsp.context.render import estimate_tokens
from tests.context_repo import LEFT_OUT_MARKERS, READABLE, SECRET_VALUES, write_repo


@pytest.fixture(scope="module", params=["git", "plain"])
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[Path, ContextEngine]:
    base = tmp_path_factory.mktemp(request.param)
    root = write_repo(base / "shop", use_git=request.param == "git")
    engine = ContextEngine([root], cache_dir=base / "cache")
    engine.build_sync()
    return root, engine


def paths(engine: ContextEngine, **request: object) -> list[str]:
    return [f.path for f in engine.query(**request).files]  # type: ignore[arg-type]


def test_the_index_holds_exactly_the_readable_files(shop: tuple[Path, ContextEngine]) -> None:
    _, engine = shop
    assert sorted(engine.index.records) == READABLE


@pytest.mark.parametrize(("current", "selection", "expected"), [
    ("app/billing.py", "return Money(round_cents(amount))", "app/money.py"),
    ("app/reports.py", "page, _ = paginate(invoices)", "app/billing.py"),
    ("engine/src/lib.rs", "parse_expression(source).value()", "engine/src/parser.rs"),
    ("java/src/com/shop/Cart.java", "return Prices.applyDiscount(cents, 10);",
     "java/src/com/shop/util/Prices.java"),
    ("web/src/components/InvoiceList.tsx", "label(row)", "web/src/api.ts"),
    ("server/main.go", 'auth.CheckToken("abc")', "server/auth/token.go"),
])
def test_a_selection_brings_the_file_that_defines_what_it_uses(
        shop: tuple[Path, ContextEngine], current: str, selection: str, expected: str) -> None:
    root, engine = shop
    result = engine.query(current=root / current, selection=selection)
    assert [f.path for f in result.files[:2]] == [current, expected]
    assert result.files[0].reasons == ("current file",)
    assert any("in the selection" in r for r in result.files[1].reasons)


@pytest.mark.parametrize(("question", "expected"), [
    ("how are prices formatted for display with a currency?", "web/src/format.ts"),
    ("where do we check that a bearer token has the right shape", "server/auth/token.go"),
    ("how is an amount rounded to whole cents", "app/money.py"),
    ("how are invoices saved to the sqlite database", "app/storage.py"),
    ("how is the FNV hash of some data computed, byte by byte", "native/hash.c"),
    ("what does `applyDiscount` do", "java/src/com/shop/util/Prices.java"),
])
def test_a_question_brings_the_file_that_answers_it(
        shop: tuple[Path, ContextEngine], question: str, expected: str) -> None:
    _, engine = shop
    assert paths(engine, question=question)[0] == expected


def test_the_current_files_imports_and_importers_come_next(
        shop: tuple[Path, ContextEngine]) -> None:
    root, engine = shop
    result = engine.query(current=root / "app/billing.py")
    reasons = {f.path: f.reasons for f in result.files}
    assert result.files[0].path == "app/billing.py"
    assert "imported by the current file" in reasons["app/money.py"]
    for importer in ("app/cli.py", "app/reports.py", "tests/test_billing.py"):
        assert "imports the current file" in reasons[importer]
    assert "tests the current file" in reasons["tests/test_billing.py"]
    top = [f.path for f in result.files[1:5]]
    assert set(top) == {"app/money.py", "app/cli.py", "app/reports.py", "tests/test_billing.py"}


@pytest.mark.parametrize(("current", "imported"), [
    ("native/table.cpp", "native/hash.h"),
    ("web/src/legacy.js", "web/src/format.ts"),
    ("engine/src/lib.rs", "engine/src/parser.rs"),
    ("server/main.go", "server/auth/token.go"),
])
def test_imports_resolve_in_every_language(shop: tuple[Path, ContextEngine], current: str,
                                           imported: str) -> None:
    root, engine = shop
    result = engine.query(current=root / current)
    assert result.files[1].path == imported
    assert "imported by the current file" in result.files[1].reasons


def test_open_files_count(shop: tuple[Path, ContextEngine]) -> None:
    root, engine = shop
    result = engine.query(question="readme", open_files=[root / "native" / "hash.c"])
    reasons = {f.path: f.reasons for f in result.files}
    assert "open in the editor" in reasons["native/hash.c"]


@pytest.mark.parametrize("request_", [
    {"question": "invoices password token key secret credentials"},
    {"question": "DB_PASSWORD database settings"},
    {"question": "LEFT_PAD_MARKER GENERATED_MARKER LOG_MARKER PRIVATE_NOTES_MARKER"},
    {"current": ".env", "question": "what is in here"},
    {"current": "app/settings.py", "selection": "DB_PASSWORD"},
])
def test_ignored_and_secret_files_never_reach_the_context(
        shop: tuple[Path, ContextEngine], request_: dict[str, str]) -> None:
    root, engine = shop
    current = root / request_["current"] if "current" in request_ else None
    result = engine.query(question=request_.get("question", ""), current=current,
                          selection=request_.get("selection", ""), budget=20_000)
    assert {f.path for f in result.files} <= set(READABLE)
    for value in (*SECRET_VALUES, *LEFT_OUT_MARKERS):
        assert value not in result.text


def test_a_secret_inside_a_sent_file_arrives_redacted(shop: tuple[Path, ContextEngine]) -> None:
    _root, engine = shop
    result = engine.query(question="what is the database url setting", budget=20_000)
    assert result.files[0].path == "app/settings.py"
    assert 'DB_PASSWORD = "<redacted:assignment>"' in result.text
    assert "<redacted:aws-access-key-id>" in result.text
    assert result.redactions >= 2
    assert "def database_url" in result.text


def test_an_open_buffer_with_a_secret_is_redacted_too(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "shop", use_git=False)
    engine = ContextEngine([root], cache_dir=tmp_path / "cache")
    engine.build_sync()
    engine.update(root / "app" / "money.py",
                  'STRIPE = "sk_live_abcdefghijklmnopqrstuvwx"\n\ndef round_cents(a):\n'
                  '    return int(a + 0.5)\n')
    result = engine.query(question="round cents", budget=20_000)
    assert "sk_live_abcdefghijklmnop" not in result.text
    assert "<redacted:stripe-key>" in result.text
    cached = (tmp_path / "cache").glob("*")
    assert all(b"sk_live_abc" not in path.read_bytes() for path in cached)


def test_the_map_comes_first_then_snippets(shop: tuple[Path, ContextEngine]) -> None:
    root, engine = shop
    text = engine.query(current=root / "app/billing.py",
                        selection="Money(round_cents(amount))").text
    assert text.startswith("Repository map (most relevant files first):\napp/billing.py "
                           "(current file)\n")
    assert "  def round_cents(amount: float) -> int" in text
    assert "Relevant code:" in text
    assert "app/money.py, lines 9-11:\n```python\ndef round_cents" in text


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(budget=st.integers(1, 3000), question=st.sampled_from(
    ["", "invoices", "prices and tokens", "how is an amount rounded to whole cents"]))
def test_the_text_keeps_within_the_budget(shop: tuple[Path, ContextEngine], budget: int,
                                          question: str) -> None:
    root, engine = shop
    result = engine.query(question=question, current=root / "app/billing.py", budget=budget)
    assert result.tokens == estimate_tokens(result.text) <= budget


def test_no_roots_still_gives_the_current_files_context(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "loose", use_git=False)
    engine = ContextEngine([], cache_dir=tmp_path / "cache")
    engine.update(root / "app" / "money.py")
    result = engine.query(current=root / "app" / "billing.py",
                          selection="Money(round_cents(amount))")
    assert [f.path for f in result.files] == [(root / "app" / "billing.py").as_posix(),
                                              (root / "app" / "money.py").as_posix()]
    assert "def round_cents" in result.text
    assert engine.query(current=root / ".env").files == []


def test_several_roots_name_their_files_by_root(tmp_path: Path) -> None:
    first = write_repo(tmp_path / "shop", use_git=True)
    second = tmp_path / "tools"
    second.mkdir()
    (second / "rounding.py").write_text("def round_cents(x):\n    return round(x)\n")
    engine = ContextEngine([first, second], cache_dir=tmp_path / "cache")
    engine.build_sync()
    result = engine.query(current=first / "app/billing.py", selection="round_cents(amount)")
    found = [f.path for f in result.files]
    assert found[0] == "shop/app/billing.py"
    assert {"shop/app/money.py", "tools/rounding.py"} <= set(found[1:3])


def test_the_command_line_ranks_as_the_server_does(shop: tuple[Path, ContextEngine],
                                                   tmp_path: Path) -> None:
    from ren_lsp.context.cli import context_for

    root, engine = shop
    question = "fix the totals when invoices are stored"
    served = engine.query(question=question)
    printed = context_for(root, question, use_cache=False)
    assert [(f.path, f.kind, f.reasons) for f in printed.files] == [
        (f.path, f.kind, f.reasons) for f in served.files]
    assert printed.files and printed.text == served.text
