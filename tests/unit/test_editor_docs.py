"""The editor docs show the configuration files as they are: each Markdown code block marked
`<!-- snippet: PATH -->` (or `PATH#NAME`) must equal that file (or its region NAME, between
`snippet: NAME` and `end snippet` comment lines), so the docs cannot drift from the files the
editor tests run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Docs whose snippets are checked (README.md once the editor sections are merged into it).
DOCS = ["editors/nvim/README.md", "editors/helix/README.md", "editors/README-snippets.md",
        "README.md"]

_MARKED = re.compile(r"<!-- snippet: (\S+?) -->\n```[\w-]*\n(.*?)```", re.S)
_MARKER = re.compile(r"^\s*(?:--|#)\s*(?:end snippet|snippet: \S+)\s*$")


def region(path: Path, name: str | None) -> str:
    """The file without its marker lines, or the named region of it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if name is None:
        return "\n".join(line for line in lines if not _MARKER.match(line)) + "\n"
    start = re.compile(rf"^\s*(?:--|#)\s*snippet: {re.escape(name)}\s*$")
    begin = next((i for i, line in enumerate(lines) if start.match(line)), None)
    assert begin is not None, f"{path} has no snippet region {name!r}"
    end = next(i for i in range(begin + 1, len(lines)) if _MARKER.match(lines[i]))
    return "\n".join(lines[begin + 1:end]) + "\n"


def snippets() -> list[tuple[str, str, str]]:
    found = []
    for doc in DOCS:
        path = ROOT / doc
        if path.exists():
            found += [(doc, ref, body) for ref, body in _MARKED.findall(
                path.read_text(encoding="utf-8"))]
    return found


@pytest.mark.parametrize(("doc", "ref", "body"), snippets(),
                         ids=[f"{d}:{r}" for d, r, _ in snippets()])
def test_snippet_equals_the_file(doc: str, ref: str, body: str) -> None:
    file, _, name = ref.partition("#")
    source = ROOT / file
    assert source.is_file(), f"{doc} shows {file}, which does not exist"
    assert body == region(source, name or None), f"{doc}: the {ref} snippet differs from the file"


@pytest.mark.parametrize("doc", DOCS[:3])
def test_each_editor_doc_shows_its_files(doc: str) -> None:
    assert [d for d, _, _ in snippets() if d == doc], f"{doc} has no checked snippet"
