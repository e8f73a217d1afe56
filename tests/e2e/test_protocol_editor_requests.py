"""An editor that never answers (or refuses) a request the server makes cannot wedge it: every
such request is bounded by a timeout, ``ren.cancel`` ends a session even while it waits on
``workspace/applyEdit``, later edits of the document still go out, and ``exit`` exits.
Through the real server over its raw stdio, against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ren_lsp.emulator import Emulator, Fault
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.conftest import BILLING
from tests.e2e.raw_stdio import NO_ANSWER, RawServer
from tests.e2e.test_server import NEW_FUNCTION, REWRITE

#: what the user selects: the whole `invoice_total` function
FUNCTION = {"start": {"line": 5, "character": 0}, "end": {"line": 10, "character": 0}}


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[RawServer]]:
    started: list[RawServer] = []
    yield started
    for server in started:
        server.stop()


def start(servers: list[RawServer], emulator: Emulator, workspace: Path, tmp_path: Path,
          timeout: float) -> tuple[RawServer, str]:
    """A server whose editor requests time out after ``timeout`` s, billing.py open."""
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                    REN_LSP_EDITOR_TIMEOUT=str(timeout))
    server = RawServer(env, workspace, tmp_path / f"stderr-{len(servers)}.txt")
    servers.append(server)
    server.initialize(workspace)
    uri = (workspace / "billing.py").as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": BILLING}})
    return server, uri


def history(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "state" / "ren-lsp" / "history.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


async def entry_of(server: RawServer, tmp_path: Path, session: str) -> dict[str, Any]:
    """The session's history line. It is written as the session's progress ends, before the
    server reads its next message: once a later request is answered, it is there."""
    probe = server.request("$/ren/probe")  # an unknown method: answered with an error
    await server.until(lambda m: m.get("id") == probe and "method" not in m, "the probe")
    return next(e for e in history(tmp_path) if e["session"] == session)


def is_request(method: str) -> Any:
    return lambda m: m.get("method") == method and "id" in m


async def session_end(server: RawServer, start: int = 0) -> str:
    """The end message of the next session to end (the progress titled "Astra: …")."""
    def sessions() -> set[str]:
        return {m["params"]["token"] for m in server.messages
                if m.get("method") == "$/progress"
                and m["params"]["value"].get("title", "").startswith("Astra")}

    end = await server.until(lambda m: m.get("method") == "$/progress"
                             and m["params"]["value"].get("kind") == "end"
                             and m["params"]["token"] in sessions(),
                             "the session's progress to end", start)
    return str(end["params"]["value"]["message"])


async def refactor(server: RawServer, uri: str) -> str:
    answer = server.call("workspace/executeCommand", {
        "command": "ren.refactor", "arguments": [{"uri": uri, "range": FUNCTION}]})
    assert "result" in answer, answer
    return str(answer["result"]["session"])


async def test_cancel_ends_a_session_waiting_on_apply_edit_and_later_edits_go_out(
        servers: list[RawServer], emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    # The timeout is long: what ends the session here is the cancel, not the timeout.
    server, uri = start(servers, emulator, workspace, tmp_path, timeout=600)
    server.answers["workspace/applyEdit"] = lambda _: NO_ANSWER
    emulator.script(Fault(text=REWRITE), Fault(text=REWRITE))
    session = await refactor(server, uri)
    await server.until(is_request("workspace/applyEdit"), "the refactor's applyEdit")

    mark = len(server.messages)
    cancelled = server.call("workspace/executeCommand",
                            {"command": "ren.cancel", "arguments": [{"session": session}]})
    assert cancelled["result"]["cancelled"] == [session]
    assert (await session_end(server, mark)).startswith("Not applied")
    entry = await entry_of(server, tmp_path, session)
    assert entry["status"] == "cancelled" and NEW_FUNCTION.strip() in entry["answer"]

    # The document is not held by the abandoned edit: the next one goes out and lands.
    server.answers["workspace/applyEdit"] = lambda _: {"applied": True}
    mark = len(server.messages)
    second = await refactor(server, uri)
    edit = await server.until(is_request("workspace/applyEdit"), "the second applyEdit", mark)
    (change,) = edit["params"]["edit"]["documentChanges"]
    assert change["textDocument"]["uri"] == uri
    assert NEW_FUNCTION in change["edits"][0]["newText"]
    assert await session_end(server, mark) == "Applied to billing.py"
    assert (await entry_of(server, tmp_path, second))["status"] == "done"
    assert server.shutdown_and_exit() == 0


@pytest.mark.parametrize("method", ["workspace/applyEdit", "window/workDoneProgress/create",
                                    "window/showDocument"])
async def test_a_request_the_editor_never_answers_times_out(
        servers: list[RawServer], emulator: Emulator, workspace: Path, tmp_path: Path,
        method: str) -> None:
    server, uri = start(servers, emulator, workspace, tmp_path, timeout=0.3)
    server.answers[method] = lambda _: NO_ANSWER
    if method == "window/showDocument":  # shown when an edit is refused: refuse it
        server.answers["workspace/applyEdit"] = lambda _: {"applied": False}
    emulator.script(Fault(text=REWRITE))
    session = await refactor(server, uri)
    asked = await server.until(is_request(method), f"the server's {method}")
    # The editor is told to drop the request it did not answer.
    await server.until(lambda m: m.get("method") == "$/cancelRequest"
                       and m["params"]["id"] == asked["id"], "a $/cancelRequest")
    if method == "window/workDoneProgress/create":  # no progress bar: messages instead
        await server.until(lambda m: m.get("method") == "window/showMessage"
                           and "Astra: Refactor" in m["params"]["message"]
                           and ("Applied" in m["params"]["message"]
                                or "Not applied" in m["params"]["message"]),
                           "the session's end as a message")
    else:
        said = await session_end(server)
        expect = ("the editor did not answer within 0.3 s" if method == "workspace/applyEdit"
                  else "the editor did not apply it")
        assert said.startswith("Not applied") and expect in said, said
    await entry_of(server, tmp_path, session)
    assert server.shutdown_and_exit() == 0


async def test_an_apply_edit_answered_with_an_error_is_the_editors_refusal(
        servers: list[RawServer], emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    server, uri = start(servers, emulator, workspace, tmp_path, timeout=30)
    server.answers["workspace/applyEdit"] = lambda _: {"__raw__": {"error": {
        "code": -32803, "message": "the buffer is read-only"}}}
    emulator.script(Fault(text=REWRITE))
    await refactor(server, uri)
    said = await session_end(server)
    assert "the editor refused the edit: the buffer is read-only" in said, said
    warning = await server.until(lambda m: m.get("method") == "window/showMessage"
                                 and "read-only" in m["params"]["message"], "the warning")
    assert "internal error" not in warning["params"]["message"]
    assert server.shutdown_and_exit() == 0


async def test_exit_exits_while_a_session_waits_on_the_editor(
        servers: list[RawServer], emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    server, uri = start(servers, emulator, workspace, tmp_path, timeout=600)
    server.answers["workspace/applyEdit"] = lambda _: NO_ANSWER
    emulator.script(Fault(text=REWRITE))
    session = await refactor(server, uri)
    await server.until(is_request("workspace/applyEdit"), "the refactor's applyEdit")
    server.notify("exit")  # no shutdown first: LSP says exit code 1
    assert server.wait_exit() == 1
    assert "Traceback" not in server.stderr()
    entry = next(e for e in history(tmp_path) if e["session"] == session)  # it has exited
    assert entry["status"] in ("cancelled", "done") and NEW_FUNCTION.strip() in entry["answer"]


async def test_a_question_the_editor_never_answers_counts_as_dismissed(
        servers: list[RawServer], emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                    REN_LSP_EDITOR_TIMEOUT="0.1")  # a person's answer: 10 times as long
    server = RawServer(env, workspace, tmp_path / "stderr.txt")
    servers.append(server)
    server.answers["window/showMessageRequest"] = lambda _: NO_ANSWER
    server.initialize(workspace, capabilities={"window": {
        "workDoneProgress": True, "showMessage": {}}, "workspace": {"applyEdit": True}})
    emulator.converse([{"tool": "run_command", "input": {"command": "echo asked"}},
                       {"text": "done"}])
    server.call("workspace/executeCommand", {"command": "ren.agent",
                                             "arguments": [{"task": "say hello"}]})
    asked = await server.until(is_request("window/showMessageRequest"), "the question")
    assert "echo asked" in asked["params"]["message"]
    said = await session_end(server)
    assert "internal error" not in said and "Failed" not in said, said
    body = emulator.requests[1].body
    assert body is not None
    results = [b for b in body["messages"][-1]["content"]
               if isinstance(b, dict) and b.get("type") == "tool_result"]
    assert "skipped `echo asked`" in results[0]["content"], results
    assert server.shutdown_and_exit() == 0
