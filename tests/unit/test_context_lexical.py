"""The question's words: which count, and how rare they are."""

from __future__ import annotations

from pathlib import Path

from ren_lsp.context import lexical
from ren_lsp.context.index import Index
from ren_lsp.context.terms import query_terms


def test_a_request_word_inside_an_identifier_stays_a_term() -> None:
    assert "resolv" not in query_terms("resolve the crash with subclasses")
    assert "resolv" in query_terms("Fix bug in resolve_types with subclasses", ["resolve_types"])
    assert "fix" not in query_terms("Fix bug in resolve_types", ["resolve_types"])


def test_a_word_repeated_by_the_tests_is_still_rare_among_the_source_files(tmp_path: Path
                                                                            ) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "pkg" / "filters.py").write_text("def wordwrap(text):\n    return text\n")
    (tmp_path / "pkg" / "other.py").write_text("def shout(text):\n    return text.upper()\n")
    (tmp_path / "tests" / "test_filters.py").write_text(
        "from pkg.filters import wordwrap\n\ndef test_wordwrap():\n    assert wordwrap('a')\n")
    index = Index([tmp_path])
    index.build_sync()
    matches = lexical.match(index, ["wordwrap"])
    # over all three files two hold the word; over the two source files, one
    assert matches.idf["wordwrap"] == lexical.idf(2, 1)
    assert lexical.idf(2, 1) > lexical.idf(3, 2)
