"""The property: for any document with secrets planted at random lines and any selection, no
planted secret appears in any request the emulator records nor in any file the server writes,
and an edit never leaves a redaction mark in the user's file.

One server and one emulator serve every example (a fresh document each), on an event loop of
the test's own, since hypothesis drives a plain function.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ren_lsp.emulator import Emulator
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.editor import Editor
from tests.e2e.test_server_faults import history_lines

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
BASE64 = ALNUM + "+/"


def chars(alphabet: str, low: int, high: int | None = None) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=low, max_size=high or low)


#: a planted secret: (the lines it takes, the strings that must never leave)
Planted = tuple[list[str], list[str]]
KINDS: list[st.SearchStrategy[Planted]] = [
    chars(UPPER_DIGITS, 16).map(lambda t: ([f'AWS_ACCESS_KEY_ID = "AKIA{t}"'], [f"AKIA{t}"])),
    chars(ALNUM, 36).map(lambda t: ([f"    deploy(token='ghp_{t}')"], [f"ghp_{t}"])),
    chars(ALNUM + "-_!@", 8, 16).map(lambda v: ([f'db_password = "{v}"'], [v])),
    st.tuples(st.sampled_from(["password", "secret_key", "api_key"]),
              chars(string.ascii_lowercase, 3, 6), chars(ALNUM, 6, 10)).map(
        lambda p: ([f"{p[0]} = {p[1]}-{p[2]}9"], [f"{p[1]}-{p[2]}9"])),  # INI, unquoted
    chars(ALNUM, 8, 16).map(lambda v: ([f"  token: {v}"], [v])),  # YAML, unquoted
    st.lists(chars(BASE64, 48), min_size=2, max_size=3).map(lambda body: (
        ["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"], body)),
]
FILLER = st.sampled_from([
    "def total(self):", "    return sum(self.lines)", "", "x = 1", "# the password hash",
    "password = get_password()", "token = self.token", "    if token.kind == NAME:",
    "[database]", "host = db.internal", "retries: 3", "print('Enter your password:')",
])


@st.composite
def documents(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """(the document's lines, every secret planted in it), each secret at a random line
    between the others' lines (a key block is not planted inside another one)."""
    units = [[line] for line in draw(st.lists(FILLER, min_size=2, max_size=14))]
    secrets: list[str] = []
    for planted, values in draw(st.lists(st.one_of(KINDS), min_size=1, max_size=4)):
        units.insert(draw(st.integers(0, len(units))), planted)
        secrets.extend(values)
    return [line for unit in units for line in unit], secrets


COMMANDS = ["ren.explain", "ren.refactor", "ren.fix", "ren.generate", "ren.ask", "ren.ask whole"]
TITLES = {"ren.explain": "Astra: Explain", "ren.refactor": "Astra: Refactor",
          "ren.fix": "Astra: Fix", "ren.generate": "Astra: Generate", "ren.ask": "Astra: Ask",
          "ren.ask whole": "Astra: Ask"}


def position(lines: list[str], line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": min(character, len(lines[line]))}


class Bench:
    """The server, the emulator and the files they write, for every example."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tmp: Path) -> None:
        self.loop, self.tmp = loop, tmp
        self.workspace = tmp / "workspace"
        self.workspace.mkdir()
        self.emulator = Emulator(api_key=TEST_KEY)
        self.editor: Editor | None = None
        self.sessions = 0
        self.names = itertools.count()

    async def start(self) -> None:
        await self.emulator.__aenter__()
        env = clean_env(self.tmp, REN_BASE_URL=self.emulator.base_url, REN_API_KEY=TEST_KEY)
        self.editor = await Editor.start("vscode", env=env, tmp_path=self.tmp,
                                         workspace=self.workspace,
                                         server_args=["--log-file", str(self.tmp / "ren.log")])

    async def stop(self) -> None:
        if self.editor is not None:
            await self.editor.stop()
        await self.emulator.__aexit__(None, None, None)

    def written(self) -> dict[Path, str]:
        """Every file the server wrote: under its state and cache folders, and its log."""
        paths = [p for base in (self.tmp / "state", self.tmp / "cache")
                 for p in sorted(base.rglob("*")) if p.is_file()]
        return {path: path.read_bytes().decode("utf-8", "replace")
                for path in [*paths, self.tmp / "ren.log"] if path.exists()}

    @staticmethod
    def added(before: dict[Path, str], after: dict[Path, str]) -> Iterator[tuple[Path, str]]:
        """What this example wrote (each example checks its own: values shrink alike)."""
        for path, text in after.items():
            old = before.get(path, "")
            if text != old:
                yield path, text[len(old):] if text.startswith(old) else text

    async def example(self, lines: list[str], secrets: list[str], command: str,
                      start: tuple[int, int], end: tuple[int, int], suffix: str) -> None:
        editor = self.editor
        assert editor is not None
        text = "\n".join(lines) + "\n"
        uri = editor.open(self.workspace / f"doc{next(self.names)}{suffix}", text, "plaintext")
        (first, first_char), (last, last_char) = sorted([start, end])
        selection = {"start": position(lines, first, first_char),
                     "end": position(lines, last, last_char)}
        arguments: dict[str, Any] = {
            "ren.explain": {"uri": uri, "range": selection},
            "ren.refactor": {"uri": uri, "range": selection},
            "ren.fix": {"uri": uri, "range": selection},
            "ren.generate": {"uri": uri, "instruction": "write a helper",
                             "position": {"line": last, "character": 0}},
            "ren.ask": {"uri": uri, "range": selection, "question": "what is this?"},
            "ren.ask whole": {"uri": uri, "question": "what does this file hold?"},
        }[command]
        sent_before, files_before = len(self.emulator.requests), self.written()
        from pygls.exceptions import JsonRpcException

        try:
            await editor.command(command.split()[0], arguments)
        except JsonRpcException as refused:  # an empty selection: nothing is sent
            assert "empty" in refused.message, refused.message
            assert len(self.emulator.requests) == sent_before
            return
        await editor.wait_for_progress_end(title=TITLES[command], timeout=30)
        self.sessions += 1
        history = self.tmp / "state" / "ren-lsp" / "history.jsonl"
        await editor.wait_until(lambda: history_lines(history, self.sessions),
                                what="the session in the history")
        for request in self.emulator.requests[sent_before:]:
            body = json.dumps(request.body, ensure_ascii=False)
            assert [s for s in secrets if s in body] == [], "a secret was sent"
        for path, content in self.added(files_before, self.written()):
            assert [s for s in secrets if s in content] == [], f"a secret is in {path}"
        assert "<redacted:" not in editor.text(uri), "a redaction mark in the user's file"
        editor.close(uri)


@pytest.mark.timeout(300)
def test_no_planted_secret_leaves_for_any_document_and_selection(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    loop = asyncio.new_event_loop()
    bench = Bench(loop, tmp_path_factory.mktemp("property"))
    loop.run_until_complete(bench.start())
    try:
        @settings(max_examples=60, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(document=documents(), command=st.sampled_from(COMMANDS),
               start=st.tuples(st.integers(0, 40), st.integers(0, 60)),
               end=st.tuples(st.integers(0, 40), st.integers(0, 60)),
               suffix=st.sampled_from([".py", ".ini", ".yaml", ".txt"]))
        def check(document: tuple[list[str], list[str]], command: str, start: tuple[int, int],
                  end: tuple[int, int], suffix: str) -> None:
            lines, secrets = document
            clip = len(lines) - 1
            loop.run_until_complete(bench.example(
                lines, secrets, command, (min(start[0], clip), start[1]),
                (min(end[0], clip), end[1]), suffix))

        check()
        assert bench.sessions >= 10  # the property was tried on real sessions, not refusals
    finally:
        loop.run_until_complete(bench.stop())
        loop.close()
