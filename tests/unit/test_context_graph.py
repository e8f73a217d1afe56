"""The context engine's import graph on the false edges the architecture analysis found: a module
named like the standard library, ``test.support`` in a standard library, a Go root package."""

from __future__ import annotations

from pathlib import Path

from ren_lsp.context import ContextEngine


def index_of(root: Path, files: dict[str, str]) -> ContextEngine:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    engine = ContextEngine([root], use_cache=False)
    engine.build_sync()
    return engine


def test_a_package_module_named_like_the_stdlib_does_not_capture_its_imports(
        tmp_path: Path) -> None:
    engine = index_of(tmp_path, {
        "pkg/__init__.py": "", "pkg/abc.py": "", "pkg/logging.py": "",
        "pkg/core.py": "from abc import ABC\nimport logging\nfrom pkg import abc\n",
        "src/lib/__init__.py": "", "src/lib/util.py": "",
        "app.py": "from lib import util\n",  # a src layout still resolves by suffix
    })
    graph = engine.index.graph
    assert graph.imports_of("pkg/core.py") == {"pkg/abc.py"}  # only `from pkg import abc`
    assert graph.imports_of("app.py") == {"src/lib/util.py"}
    assert graph.importers_of("pkg/logging.py") == set()


def test_test_support_resolves_from_the_root_first(tmp_path: Path) -> None:
    engine = index_of(tmp_path, {
        "test/__init__.py": "", "test/support/__init__.py": "", "test/support/os_helper.py": "",
        "tkinter/__init__.py": "", "tkinter/test/__init__.py": "",
        "tkinter/test/support.py": "",
        "test/test_os.py": "import test.support\nfrom test.support import os_helper, run\n",
    })
    assert engine.index.graph.imports_of("test/test_os.py") == {
        "test/support/__init__.py", "test/support/os_helper.py"}
    assert engine.index.graph.importers_of("tkinter/test/support.py") == set()


def test_a_go_module_root_package_resolves_and_is_found_importing(tmp_path: Path) -> None:
    engine = index_of(tmp_path, {
        "go.mod": "module github.com/acme/cli/v3\n\ngo 1.22\n",
        "command.go": "package cli\n", "flag.go": "package cli\n",
        "command_test.go": "package cli\n",
        "internal/x/x.go": "package x\n",
        "examples/main.go": 'package main\n\nimport (\n\t"github.com/acme/cli/v3"\n'
                            '\t"github.com/acme/cli/v3/internal/x"\n)\n',
    })
    graph = engine.index.graph
    assert graph.imports_of("examples/main.go") == {"command.go", "flag.go", "internal/x/x.go"}
    assert graph.importers_of("command.go") == {"examples/main.go"}
    # a new module path takes effect at once
    (tmp_path / "go.mod").write_text("module example.com/other\n")
    engine.update(tmp_path / "go.mod")
    assert graph.imports_of("examples/main.go") == set()


def test_who_imports_a_file_follows_edits_made_before_the_first_question(
        tmp_path: Path) -> None:
    """The words of the imports are indexed at the first ``importers_of``: a file changed or
    removed before that is found by its new imports only, and a removed one not at all."""
    engine = index_of(tmp_path, {"money.py": "", "tax.py": "",
                                 "billing.py": "import money\n", "report.py": "import tax\n"})
    (tmp_path / "billing.py").write_text("import tax\n", encoding="utf-8")
    engine.update(tmp_path / "billing.py")  # edited before anything asked the graph
    (tmp_path / "report.py").unlink()
    engine.remove(tmp_path / "report.py")
    graph = engine.index.graph
    assert graph.importers_of("tax.py") == {"billing.py"}
    assert graph.importers_of("money.py") == set()
    (tmp_path / "billing.py").write_text("import money\n", encoding="utf-8")
    engine.update(tmp_path / "billing.py")  # and after: the indexed words are replaced
    assert graph.importers_of("money.py") == {"billing.py"}
    assert graph.importers_of("tax.py") == set()


def test_who_imports_a_file_is_remembered_until_some_imports_change(tmp_path: Path) -> None:
    engine = index_of(tmp_path, {"money.py": "", "billing.py": "import money\n"})
    graph = engine.index.graph
    before = graph.importers_of("money.py")
    assert before == {"billing.py"}
    # A body edit keeps the imports: the answer stands (and is not worked out again).
    (tmp_path / "billing.py").write_text("import money\n\nTOTAL = 1\n", encoding="utf-8")
    engine.update(tmp_path / "billing.py")
    assert graph.importers_of("money.py") is before
    # A new importer, and one that stops importing: both seen at the next question.
    (tmp_path / "report.py").write_text("import money\n", encoding="utf-8")
    engine.update(tmp_path / "report.py")
    assert graph.importers_of("money.py") == {"billing.py", "report.py"}
    (tmp_path / "billing.py").write_text("TOTAL = 1\n", encoding="utf-8")
    engine.update(tmp_path / "billing.py")
    assert graph.importers_of("money.py") == {"report.py"}
