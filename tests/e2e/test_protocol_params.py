"""Every request gets exactly one response, whatever its params: those that fail to structure
get ``-32602 InvalidParams`` naming the field, and the server goes on answering. Through the
real server over its raw stdio; the fuzz is hypothesis over the raw stream, on one process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import clean_env
from tests.e2e.raw_stdio import Message, RawServer, frame

TEXT = "def total(lines):\n    return sum(lines)\n"
ZERO = {"line": 0, "character": 0}
LINE_ONE = {"line": 1, "character": 0}


class Session:
    """One initialized server, restarted only if a test killed it; a document open in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = (root / "calc.py").as_uri()
        (root / "calc.py").write_text(TEXT)
        self.count = 0
        self.server = self._start()

    def _start(self) -> RawServer:
        self.count += 1
        server = RawServer(clean_env(self.root), self.root,
                           self.root / f"stderr-{self.count}.txt")
        server.initialize(self.root)
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": self.uri, "languageId": "python", "version": 1, "text": TEXT}})
        return server

    def valid(self) -> dict[str, Any]:
        return {"textDocument": {"uri": self.uri},
                "range": {"start": ZERO, "end": LINE_ONE}, "context": {"diagnostics": []}}

    def assert_still_answers(self) -> None:
        answer = self.server.call("textDocument/codeAction", self.valid())
        assert isinstance(answer.get("result"), list) and answer["result"], answer


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    live = Session(tmp_path_factory.mktemp("params"))
    yield live
    assert live.server.shutdown_and_exit() == 0
    live.server.stop()


def no_traceback(message: Message) -> None:
    text = json.dumps(message)
    assert "Traceback" not in text and 'File \\"' not in text and "traceback" not in text, text


def one_response(server: RawServer, msg_id: int) -> Message:
    """The request's response, and a later request's: by then a second one would be in."""
    response = server.response(msg_id)
    server.call("workspace/executeCommand", {"command": "ren.cancel", "arguments": []})
    assert len(server.responses_to(msg_id)) == 1, server.responses_to(msg_id)
    no_traceback(response)
    return response


def position(line: object, character: object = 0) -> dict[str, object]:
    return {"line": line, "character": character}


BAD = [
    pytest.param("textDocument/inlineCompletion", lambda s: {
        "textDocument": {"uri": s.uri}, "position": position(-1),
        "context": {"triggerKind": 1}}, "params.position", "-1", id="negative-line"),
    pytest.param("textDocument/inlineCompletion", lambda s: {
        "textDocument": {"uri": s.uri}, "position": position(2**31),
        "context": {"triggerKind": 1}}, "params.position", "2147483648", id="line-2**31"),
    pytest.param("textDocument/codeAction", lambda s: {
        "range": {"start": ZERO, "end": ZERO}, "context": {"diagnostics": []}},
        "params.textDocument", "required", id="missing-textDocument"),
    pytest.param("workspace/executeCommand", lambda s: {"arguments": [{}]},
                 "params.command", "required", id="executeCommand-without-command"),
    pytest.param("textDocument/codeAction", lambda s: {
        "textDocument": {"uri": s.uri}, "range": {"start": position("one"), "end": ZERO},
        "context": {"diagnostics": []}}, "params.range.start.line", "int", id="string-line"),
    pytest.param("textDocument/codeAction", lambda s: [1, 2], "params", "expected an object",
                 id="params-a-list"),
    pytest.param("textDocument/codeAction", lambda s: {
        "textDocument": {"uri": s.uri}, "range": {"start": ZERO, "end": ZERO},
        "context": {"diagnostics": "none"}}, "params.context.diagnostics", "",
        id="diagnostics-a-string"),
]


@pytest.mark.parametrize(("method", "params", "field", "says"), BAD)
def test_params_that_fail_to_structure_are_invalid_params_naming_the_field(
        session: Session, method: str, params: Any, field: str, says: str) -> None:
    msg_id = session.server.request(method, params(session))
    error = one_response(session.server, msg_id)["error"]
    assert error["code"] == -32602
    assert field in error["message"] and says in error["message"], error["message"]
    assert "data" not in error
    session.assert_still_answers()


# -- the fuzz: one leaf of a valid request changed, or one key dropped -------------------------

JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.sampled_from([-1, 2**31, 2**31 - 1, 2**53, -(2**63), 0.5]),
    st.integers(min_value=-(2**40), max_value=2**40), st.text(max_size=12),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                         max_size=2))


def templates(s: Session) -> dict[str, Any]:
    rng = {"start": ZERO, "end": LINE_ONE}
    return {
        "textDocument/codeAction": s.valid(),
        "textDocument/inlineCompletion": {"textDocument": {"uri": s.uri}, "position": LINE_ONE,
                                          "context": {"triggerKind": 1}},
        "workspace/executeCommand": {"command": "ren.cancel", "arguments": [{}]},
        "workspace/executeCommand#explain": {"command": "ren.explain", "arguments": [
            {"uri": s.uri, "range": rng}]},
        "initialize": {"processId": None, "rootUri": s.root.as_uri(), "capabilities": {}},
        "no/such/method": {"x": 1},
    }


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (the root too)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def mutate(value: Any, path: tuple[Any, ...], replacement: Any, drop: bool) -> Any:
    if not path:
        return replacement
    copy = json.loads(json.dumps(value))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return copy


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_params_get_exactly_one_response_and_the_server_goes_on(
        session: Session, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(templates(session))), label="method")
    template = templates(session)[name]
    path = data.draw(st.sampled_from(paths(template)), label="path")
    params = mutate(template, path, data.draw(JSON_LEAF, label="value"),
                    data.draw(st.booleans(), label="drop"))
    notify = data.draw(st.booleans(), label="as a notification")
    server = session.server
    method = name.split("#")[0]
    if notify:  # no answer to give: the server must simply go on
        server.write(frame({"jsonrpc": "2.0", "method": method, "params": params}))
    else:
        msg_id = server.new_id()
        server.write(frame({"jsonrpc": "2.0", "id": msg_id, "method": method,
                            "params": params}))
        response = one_response(server, msg_id)
        if "error" in response:
            assert response["error"]["code"] in (-32600, -32601, -32602, -32603, -32800)
            assert "data" not in response["error"], response
    session.assert_still_answers()
    assert server.proc.poll() is None
