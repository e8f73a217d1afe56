"""The architecture analysis on small repositories the tests write: Python's resolution rules and
the false edges that once came from guessing by path suffix, cycles and their cuts, entry points,
source files, and the report."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ren_lsp.architecture import analyze_index
from ren_lsp.architecture.cycles import (
    _acyclic,
    disjoint_cycles,
    smallest_cut,
    strongly_connected,
)
from ren_lsp.architecture.model import Analysis
from ren_lsp.architecture.report import render
from ren_lsp.context import ContextEngine
from ren_lsp.jsonschemas import validator


def analyse(root: Path, files: dict[str, str]) -> Analysis:
    """Write ``files`` under ``root``, index them as the server would, analyse."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    engine = ContextEngine([root], use_cache=False)
    engine.build_sync()
    analysis = analyze_index(engine.index)
    assert analysis is not None
    validator("architecture.schema.json").validate(analysis.to_json())  # what --json prints
    return analysis


def pairs(analysis: Analysis, kind: str | None = None) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in analysis.edges if kind is None or e.kind == kind}


def external(analysis: Analysis, name: str) -> tuple[str, bool]:
    (found,) = [x for x in analysis.externals if x.name == name]
    return found.kind, found.declared


def test_a_src_layout_resolves_through_its_declared_root(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "pyproject.toml": '[project]\nname = "pkg"\n\n[tool.setuptools.packages.find]\n'
                          'where = ["src"]\n',
        "src/pkg/__init__.py": "",
        "src/pkg/a.py": "from pkg import b\nimport pkg.c\n",
        "src/pkg/b.py": "",
        "src/pkg/c.py": "",
        "tests/test_a.py": "import pkg.a\n",
    })
    assert pairs(analysis) == {("src/pkg/a.py", "src/pkg/b.py"), ("src/pkg/a.py", "src/pkg/c.py"),
                               ("tests/test_a.py", "src/pkg/a.py")}
    assert {e.line for e in analysis.edges if e.source == "src/pkg/a.py"} == {1, 2}
    hubs = render(analysis).split("## Most connected modules")[1]
    assert "- `src/pkg/a.py`: imports 2, imported by 1 (1 of them tests)" in hubs
    assert "tests/test_a.py" not in hubs  # a test is never a hub


def test_import_a_b_names_a_b_and_relative_imports_go_by_package(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "app/__init__.py": "",
        "app/util.py": "",
        "app/sub/__init__.py": "from . import y\n",
        "app/sub/x.py": "from .. import util\nfrom .y import thing\nfrom . import y, missing\n",
        "app/sub/y.py": "thing = 1\n",
        "main.py": "import app.sub.x\nfrom app.sub import x\n",
    })
    assert pairs(analysis) == {
        ("app/sub/x.py", "app/util.py"), ("app/sub/x.py", "app/sub/y.py"),
        ("app/sub/x.py", "app/sub/__init__.py"),  # `missing` is a name in the package
        ("app/sub/__init__.py", "app/sub/y.py"), ("main.py", "app/sub/x.py")}


def test_a_module_named_like_the_standard_library_does_not_capture_its_imports(
        tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/abc.py": "class Base: ...\n",
        "pkg/logging.py": "",
        "pkg/yaml.py": "",
        "pkg/core.py": "from __future__ import annotations\nfrom abc import ABC\n"
                       "import logging\nimport yaml\nfrom . import abc\n",
        "logging.py": "",  # at the top: it shadows the standard library's
    })
    assert pairs(analysis) == {("pkg/core.py", "pkg/abc.py")}  # only the relative import
    assert external(analysis, "abc") == ("stdlib", True)
    assert external(analysis, "__future__") == ("stdlib", True)
    assert external(analysis, "logging")[0] == "stdlib"
    assert external(analysis, "yaml")[0] == "third-party"  # installed, never a repo file
    assert any("`logging.py` is named like the standard library's `logging`" in n
               for n in analysis.notes)


def test_test_support_is_the_test_package_in_a_standard_library(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "os.py": "import abc\n", "abc.py": "", "importlib/__init__.py": "",
        "test/__init__.py": "",
        "test/support/__init__.py": "",
        "test/support/os_helper.py": "",
        "test/test_os.py": "import test.support\nfrom test.support import os_helper\n",
        "tkinter/__init__.py": "",
        "tkinter/test/__init__.py": "",
        "tkinter/test/support.py": "",
        "tkinter/test/test_widgets.py": "from tkinter.test.support import setup\n",
        # a script folder's gc.py never shadows the built-in gc
        "test/dtracedata/gc.py": "", "test/dtracedata/run.py": "import gc\n",
        "__future__.py": "", "typing.py": "from __future__ import annotations\n",
    })
    assert pairs(analysis) == {
        ("os.py", "abc.py"),  # a standard library's own modules are its files
        ("typing.py", "__future__.py"),
        ("test/test_os.py", "test/support/__init__.py"),
        ("test/test_os.py", "test/support/os_helper.py"),
        ("tkinter/test/test_widgets.py", "tkinter/test/support.py")}
    assert not [n for n in analysis.notes if "named like" in n]


def test_type_checking_lazy_and_script_imports_make_no_runtime_cycle(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "a.py": "import b\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
                "else:\n    import c\n",
        "c.py": "def late():\n    import b\n\nif __name__ == '__main__':\n    import a\n",
        "stub.pyi": "import a\n",
    })
    kinds = {(e.source, e.target): e.kind for e in analysis.edges}
    assert kinds == {("a.py", "b.py"): "runtime", ("b.py", "a.py"): "type",
                     ("b.py", "c.py"): "runtime", ("c.py", "b.py"): "lazy",
                     ("c.py", "a.py"): "lazy", ("stub.pyi", "a.py"): "type"}
    assert analysis.cycles == ()
    assert analysis.deferred_cycles == (("a.py", "b.py", "c.py"),)
    assert "No import cycles between files at run time." in render(analysis)


def test_a_runtime_cycle_names_its_closing_edges_and_the_smallest_cut(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "a.py": "import b\n",
        "b.py": "\nimport c\n",
        "c.py": "\n\nimport a\nimport b\n",
    })
    (cycle,) = analysis.cycles
    assert cycle.files == ("a.py", "b.py", "c.py")
    assert {(e.source, e.line, e.target) for e in cycle.closing_edges} == {
        ("a.py", 1, "b.py"), ("b.py", 2, "c.py"), ("c.py", 3, "a.py"), ("c.py", 4, "b.py")}
    assert [(e.source, e.target) for e in cycle.cut] == [("b.py", "c.py")] and cycle.cut_exact
    text = render(analysis)
    assert "Breaking 1 import ends it: `b.py:2` → `c.py`." in text


def test_entry_points_are_declared_scripts_mains_and_never_tests_or_docs(tmp_path: Path) -> None:
    main = 'if __name__ == "__main__":\n    run()\n'
    analysis = analyse(tmp_path, {
        "pyproject.toml": '[project]\nname = "tool"\n\n[project.scripts]\n'
                          'tool = "tool.commands:main"\n',
        "tool/__init__.py": "",
        "tool/__main__.py": "from tool.commands import main\n",
        "tool/commands.py": "def main(): ...\n",
        "tool/gen.py": main,
        "tests/test_tool.py": main,
        "docs/conf.py": main,
        "README.rst": "Tool\n====\n", ".coveragerc": "[run]\n", "CHANGES.rst": "1.0\n",
        "bun.lock": "{}\n",
    })
    assert {(p.file, p.why) for p in analysis.entry_points} == {
        ("tool/commands.py", '[project.scripts] tool = tool.commands:main'),
        ("tool/__main__.py", "`python -m tool`"),
        ("tool/gen.py", 'runs as a script (`if __name__ == "__main__"`)')}
    assert analysis.entry_points[0].file == "tool/commands.py"  # the declared one first
    # source files are code files: no lockfiles, changelogs, configs, docs text
    assert set(analysis.files) == {"tool/__init__.py", "tool/__main__.py", "tool/commands.py",
                                   "tool/gen.py", "tests/test_tool.py", "docs/conf.py"}
    largest = render(analysis).split("## Largest modules")[1]
    assert "bun.lock" not in largest and "CHANGES" not in largest


def test_python_externals_are_checked_against_the_manifests(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "pyproject.toml": '[project]\nname = "svc"\ndependencies = ["requests>=2", "PyYAML",'
                          ' "unused-lib==1.0"]\n\n[project.optional-dependencies]\n'
                          'dev = ["pytest"]\n',
        "requirements.txt": "# pinned\nhttpx==0.27  # client\n-r other.txt\n",
        "svc.py": "import os\nimport requests\nimport yaml\nimport httpx\nimport undeclared_mod\n",
        "test_svc.py": "import pytest\n",
    })
    assert external(analysis, "requests") == ("third-party", True)
    assert external(analysis, "yaml") == ("third-party", True)  # PyYAML
    assert external(analysis, "httpx") == ("third-party", True)  # requirements.txt
    assert external(analysis, "pytest") == ("third-party", True)  # a dev extra
    assert external(analysis, "undeclared_mod") == ("third-party", False)
    assert external(analysis, "os") == ("stdlib", True)
    assert analysis.declared_unused == ("unused-lib",)
    assert analysis.manifests == ("pyproject.toml", "requirements.txt")
    text = render(analysis)
    assert "Used but not declared: `undeclared_mod`." in text
    assert "imported nowhere (perhaps loaded by name, a plugin or a tool): `unused-lib`" in text


def test_a_broken_manifest_is_named_not_fatal(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {"pyproject.toml": "[project\n", "a.py": "import b\n",
                                  "b.py": ""})
    assert pairs(analysis) == {("a.py", "b.py")}
    assert any("`pyproject.toml` could not be read" in n for n in analysis.notes)


def test_the_graph_is_collapsed_to_about_forty_folders(tmp_path: Path) -> None:
    files = {f"pkg/area{i}/part{j}/m.py": f"import pkg.area{(i + 1) % 30}.part{j}.m\n"
             for i in range(30) for j in range(3)}
    analysis = analyse(tmp_path, {**files, "pkg/__init__.py": ""})
    graph = render(analysis).split("```mermaid")[1].split("```")[0]
    nodes = [line for line in graph.splitlines() if '["' in line]
    assert len(nodes) == 31  # pkg/areaN, and pkg itself
    assert "Folders deeper than 2 levels are drawn as their parent (60 folders merged)." in (
        render(analysis))
    assert len(analysis.edges) == 90  # the JSON keeps every file edge


def test_smallest_cut_is_exact_on_small_cycles_and_breaks_every_cycle() -> None:
    edges = [("a", "b"), ("b", "a"), ("b", "c"), ("c", "b"), ("c", "a")]
    cut, exact = smallest_cut(["a", "b", "c"], edges)
    assert exact and len(cut) == 2
    assert _acyclic(e for e in edges if e not in cut)


@given(st.dictionaries(st.sampled_from("abcdefg"), st.sets(st.sampled_from("abcdefg"))))
def test_every_node_of_a_component_reaches_every_other(graph: dict[str, set[str]]) -> None:
    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    components = strongly_connected(graph)
    for component in components:
        for node in component:
            assert set(component) <= reach(node)
    members = [n for c in components for n in c]
    assert len(members) == len(set(members))
    for node in graph:  # a node on a cycle is always in some component
        if node in reach(node):
            assert node in members


def test_a_barrel_module_cycle_gets_a_proven_cut_and_its_shortest_loop(tmp_path: Path) -> None:
    parts = [f"part{i}" for i in range(6)]
    analysis = analyse(tmp_path, {
        "index.ts": "".join(f'export * from "./{p}";\n' for p in parts),
        **{f"{p}.ts": 'import {x} from "./index";\n' for p in parts},
    })
    (cycle,) = analysis.cycles
    assert len(cycle.closing_edges) == 12 and len(cycle.cut) == 6
    assert cycle.cut_exact  # six cycles share no edge: six cuts are needed
    text = render(analysis)
    assert "the shortest loop: `index.ts:1` → `part0.ts:1` → `index.ts`." in text
    assert "found greedily" not in text


@given(st.sets(st.tuples(st.sampled_from("abcdef"), st.sampled_from("abcdef")), max_size=14))
def test_a_cut_always_leaves_no_cycle(edges: set[tuple[str, str]]) -> None:
    edges = {e for e in edges if e[0] != e[1]}
    nodes = sorted({n for e in edges for n in e})
    cut, exact = smallest_cut(nodes, sorted(edges))
    assert _acyclic(e for e in edges if e not in cut)
    assert disjoint_cycles(edges) <= len(cut)  # a lower bound, never above a real cut
    if exact and cut:  # proven smallest: no set of one edge fewer breaks every cycle
        from itertools import combinations

        assert not any(_acyclic(e for e in edges if e not in set(fewer))
                       for fewer in combinations(sorted(edges), len(cut) - 1))


def test_external_packages_are_named_by_their_top_level() -> None:
    from ren_lsp.architecture.resolve import external_name

    assert external_name("os.path", "python") == "os"
    assert external_name(".sibling", "python") is None
    assert external_name("@scope/pkg/deep/file", "typescript") == "@scope/pkg"
    assert external_name("react-dom/client", "javascript") == "react-dom"
    assert external_name("./local", "javascript") is None
    assert external_name("std::collections::HashMap", "rust") == "std"
    assert external_name("crate::parser", "rust") is None
    assert external_name("github.com/spf13/cobra", "go") == "github.com/spf13/cobra"
    assert external_name("<stdio.h>", "c") == "stdio.h"


def test_a_subfolder_resolves_as_in_the_whole_workspace(tmp_path: Path) -> None:
    analyse(tmp_path, {
        "pyproject.toml": '[project]\nname = "pkg"\ndependencies = ["requests", "rich"]\n',
        "src/pkg/__init__.py": "",
        "src/pkg/a.py": "import requests\nfrom pkg import b\nfrom tools import helper\n",
        "src/pkg/b.py": "",
        "tools/__init__.py": "", "tools/helper.py": "",
    })
    engine = ContextEngine([tmp_path], use_cache=False)
    engine.build_sync()
    analysis = analyze_index(engine.index, "src/")
    assert analysis is not None
    assert sorted(analysis.files) == ["pkg/__init__.py", "pkg/a.py", "pkg/b.py"]
    assert pairs(analysis) == {("pkg/a.py", "pkg/b.py")}  # tools/ is outside the folder
    assert external(analysis, "requests") == ("third-party", True)  # by ../pyproject.toml
    assert "tools" not in {x.name for x in analysis.externals}  # a workspace module
    assert analysis.manifests == ("../pyproject.toml",)
    assert analysis.declared_unused == ()  # `rich` may be used elsewhere in the workspace
    assert analyze_index(engine.index, "docs/") is None
