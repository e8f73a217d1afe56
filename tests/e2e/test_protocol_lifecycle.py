"""The server's lifecycle as LSP says: ``-32002 ServerNotInitialized`` before ``initialize``,
``InvalidRequest`` after ``shutdown``, ``exit`` ending the process at once (0 after shutdown, 1
without); and no traceback ever reaches the client: an internal error is ``-32603`` with a
short message, the traceback only in the server's log. Through the real server's raw stdio."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import clean_env
from tests.e2e.faulty_server import INTERNALS
from tests.e2e.raw_stdio import Message, RawServer

REPO = Path(__file__).resolve().parents[2]
ZERO = {"line": 0, "character": 0}


@pytest.fixture
def servers() -> Iterator[list[RawServer]]:
    started: list[RawServer] = []
    yield started
    for server in started:
        server.stop()


def start(servers: list[RawServer], root: Path, module: str = "ren_lsp") -> RawServer:
    env = clean_env(root, PYTHONPATH=str(REPO))
    server = RawServer(env, root, root / f"stderr-{len(servers)}.txt", module=module)
    servers.append(server)
    return server


def assert_clean(message: Message) -> None:
    """Nothing of the server's insides: no traceback, no data, no internal text."""
    text = json.dumps(message)
    assert "Traceback" not in text and "traceback" not in text and 'File \\"' not in text
    assert INTERNALS not in text
    if "error" in message:
        assert set(message["error"]) == {"code", "message"}, message


def code_action(root: Path) -> dict[str, object]:
    return {"textDocument": {"uri": (root / "calc.py").as_uri()},
            "range": {"start": ZERO, "end": {"line": 1, "character": 0}},
            "context": {"diagnostics": []}}


BEFORE = [
    ("textDocument/codeAction", None),
    ("workspace/executeCommand", {"command": "ren.explain", "arguments": [{}]}),
    ("textDocument/inlineCompletion", {"textDocument": {"uri": "file:///x.py"},
                                       "position": ZERO, "context": {"triggerKind": 1}}),
    ("shutdown", None),
    ("no/such/method", {}),
]


def test_requests_before_initialize_get_server_not_initialized(
        servers: list[RawServer], tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def total(lines):\n    return sum(lines)\n")
    server = start(servers, tmp_path)
    server.notify("textDocument/didOpen", {"textDocument": {  # before initialize: dropped
        "uri": "file:///x.py", "languageId": "python", "version": 1, "text": "x\n"}})
    for method, params in BEFORE:
        answer = server.call(method, params if params is not None else code_action(tmp_path))
        assert_clean(answer)
        assert answer["error"]["code"] == -32002, answer
        assert "initialize" in answer["error"]["message"]
    server.initialize(tmp_path)
    actions = server.call("textDocument/codeAction", code_action(tmp_path))
    assert actions["result"], actions
    again = server.call("initialize", {"processId": None, "capabilities": {}})
    assert again["error"]["code"] == -32600
    assert server.shutdown_and_exit() == 0


def test_requests_after_shutdown_are_invalid_and_exit_exits_at_once(
        servers: list[RawServer], tmp_path: Path) -> None:
    server = start(servers, tmp_path)
    server.initialize(tmp_path)
    assert server.call("shutdown") == {"jsonrpc": "2.0", "id": 2, "result": None}
    late = server.call("textDocument/codeAction", code_action(tmp_path))
    assert late["error"]["code"] == -32600 and "shutting down" in late["error"]["message"]
    server.notify("exit")
    assert server.wait_exit() == 0
    assert "Traceback" not in server.stderr()


def test_exit_without_shutdown_ends_with_code_1(servers: list[RawServer],
                                                tmp_path: Path) -> None:
    server = start(servers, tmp_path)
    server.initialize(tmp_path)
    server.notify("exit")
    assert server.wait_exit() == 1
    assert "Traceback" not in server.stderr()


def test_an_internal_error_is_a_short_message_and_the_traceback_stays_in_the_log(
        servers: list[RawServer], tmp_path: Path) -> None:
    server = start(servers, tmp_path, module="tests.e2e.faulty_server")
    server.initialize(tmp_path)
    answer = server.call("workspace/executeCommand", {"command": "ren.test.fail"})
    assert_clean(answer)
    assert answer["error"]["code"] == -32603
    assert answer["error"]["message"] == (
        "ren-lsp internal error (RuntimeError); the details are in the server's log")

    mark = len(server.messages)
    server.notify("ren/test/fail", {})
    shown = server.wait_for(lambda m: m.get("method") == "window/showMessage", "a message",
                            mark)
    assert_clean(shown)
    assert "internal error" in shown["params"]["message"]

    # The server goes on, and its log has what the client was not sent.
    assert server.call("workspace/executeCommand",
                       {"command": "ren.cancel", "arguments": []})["result"] == {
        "cancelled": []}
    assert server.shutdown_and_exit() == 0
    log = server.stderr()
    assert "Traceback" in log and INTERNALS in log
    for message in server.messages:
        assert_clean(message)
