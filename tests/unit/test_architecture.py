"""The local architecture report: cycles, packages, hubs, the Mermaid graph."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ren_lsp.architecture import Module, report, strongly_connected


def test_cycles_are_found_and_only_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert strongly_connected(graph) == [["a", "b", "c"], ["e"]]


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
    # A node on a cycle is always in some component.
    for node in graph:
        if node in reach(node):
            assert node in members


def test_report_names_packages_cycles_entry_points_and_externals() -> None:
    modules = [
        Module("app/cli.py", 40, frozenset({"app/core.py"}), frozenset({"argparse"}), 2),
        Module("app/core.py", 300, frozenset({"lib/util.py"}), frozenset({"httpx"}), 12),
        Module("lib/util.py", 80, frozenset({"lib/more.py"}), frozenset({"httpx"}), 4),
        Module("lib/more.py", 20, frozenset({"lib/util.py"}), frozenset(), 1),
    ]
    text = report(modules, title="Architecture of demo")
    assert text.startswith("# Architecture of demo\n")
    assert "| `app` | 2 | 340 |" in text and "| `lib` | 2 | 100 |" in text
    assert "m_app --> m_lib" in text and "```mermaid" in text
    assert "`lib/more.py` → `lib/util.py`" in text
    assert "- `app/cli.py`" in text.split("## Entry points")[1]
    assert "`httpx` (used by 2 files)" in text
    assert text.split("## Largest modules")[1].splitlines()[2].startswith("- `app/core.py`")


def test_external_packages_are_named_by_their_top_level() -> None:
    from ren_lsp.lsp.features.analyze import external_name

    assert external_name("os.path", "python") == "os"
    assert external_name(".sibling", "python") is None
    assert external_name("@scope/pkg/deep/file", "typescript") == "@scope/pkg"
    assert external_name("react-dom/client", "javascript") == "react-dom"
    assert external_name("./local", "javascript") is None
    assert external_name("std::collections::HashMap", "rust") == "std"
    assert external_name("crate::parser", "rust") is None
    assert external_name("github.com/spf13/cobra", "go") == "github.com/spf13/cobra"
    assert external_name("<stdio.h>", "c") == "stdio.h"
