"""Framing: a frame over the limit is refused, and a stream the server can no longer parse ends
the process with one line on stderr and a non-zero code (the editor restarts it), never a
MemoryError, never alive but deaf. What can be read safely is: LF-only headers, a body that
is not JSON (a parse error), a stray blank line. Hypothesis over the raw stdio stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ren_lsp.lsp.framing import MAX_CONTENT_LENGTH
from tests.conftest import clean_env
from tests.e2e.raw_stdio import RawServer, frame

#: The line the server ends with, whatever broke the stream.
REASON_END = "; exiting so that the editor restarts the server"


class Pool:
    """A server process, reused until an example ends it. Requests before ``initialize`` are
    answered too (``-32002``), so framing needs no initialize: a restart is quick."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started = 0
        self.server = self._start()

    def _start(self) -> RawServer:
        self.started += 1
        return RawServer(clean_env(self.root), self.root,
                         self.root / f"stderr-{self.started}.txt")

    def live(self) -> RawServer:
        if self.server.proc.poll() is not None:
            self.server.stop()
            self.server = self._start()
        return self.server


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    live = Pool(tmp_path_factory.mktemp("framing"))
    yield live
    live.server.stop()


def request(msg_id: int) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/codeAction",
            "params": {"textDocument": {"uri": "file:///x.py"},
                       "range": {"start": {"line": 0, "character": 0},
                                 "end": {"line": 0, "character": 0}},
                       "context": {"diagnostics": []}}}


def body(msg_id: int) -> bytes:
    return json.dumps(request(msg_id)).encode()


@st.composite
def malformed(draw: st.DrawFn, msg_id: int) -> tuple[bytes, list[int]]:
    """Bytes that break (or bend) the framing, and the ids of requests they carry that the
    server can read (and so must answer)."""
    kind = draw(st.sampled_from([
        "huge", "not-a-number", "zero", "no-header", "lf-only", "lie", "garbage-header",
        "long-header", "not-json", "not-an-object", "extra-header", "blank-line", "binary"]))
    raw = body(msg_id)
    if kind == "huge":
        length = draw(st.integers(MAX_CONTENT_LENGTH + 1, 10**30))
        return b"Content-Length: %d\r\n\r\n" % length + raw, []
    if kind == "not-a-number":
        value = draw(st.text(st.characters(blacklist_categories=["Nd", "Cs"],
                                           blacklist_characters="\r\n"), min_size=1,
                             max_size=10)).encode()
        return b"Content-Length: " + value + b"\r\n\r\n" + raw, []
    if kind == "zero":
        return b"Content-Length: 0\r\n\r\n" + raw, []
    if kind == "no-header":
        return raw + b"\r\n", []
    if kind == "lf-only":
        return b"Content-Length: %d\n\n" % len(raw) + raw, [msg_id]
    if kind == "lie":  # a few bytes off: never lands on the next frame's start
        delta = draw(st.integers(-20, 20).filter(bool))
        return b"Content-Length: %d\r\n\r\n" % (len(raw) + delta) + raw, []
    if kind == "garbage-header":
        line = draw(st.binary(min_size=1, max_size=40).filter(
            lambda b: b"\n" not in b and b":" not in b and b.strip(b"\r") != b""))
        return line + b"\r\n" + frame(raw), []
    if kind == "long-header":
        return b"X-Padding: " + b"a" * draw(st.integers(1100, 5000)) + b"\r\n" + frame(raw), []
    if kind == "not-json":
        return frame(draw(st.binary(min_size=1, max_size=30)).replace(b"{", b"<")), []
    if kind == "not-an-object":
        return frame(json.dumps(draw(st.one_of(st.integers(), st.lists(st.integers()))))), []
    if kind == "extra-header":
        return (b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; "
                b"charset=utf-8\r\n\r\n" % len(raw) + raw), [msg_id]
    if kind == "blank-line":
        return b"\r\n" + frame(raw), [msg_id]
    return draw(st.binary(min_size=1, max_size=60)), []


def answered_or_exited(server: RawServer, msg_id: int) -> bool:
    """True once ``msg_id`` is answered, False if the server exited first."""
    try:
        server.wait_for(lambda m: m.get("id") == msg_id and "method" not in m,
                        f"response to {msg_id}")
    except AssertionError:
        assert server.proc.poll() is not None, "neither answered nor exited: deaf"
        return False
    return True


def assert_ended_with_one_line(server: RawServer) -> None:
    code = server.wait_exit()
    assert code != 0
    log = server.stderr()
    assert "Traceback" not in log and "MemoryError" not in log, log[-2000:]
    reasons = [line for line in log.splitlines() if line.startswith("ren-lsp: ")]
    assert len(reasons) == 1 and reasons[0].endswith(REASON_END), log[-2000:]
    assert log.rstrip("\n").splitlines()[-1] == reasons[0]


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_malformed_frames_are_answered_or_end_the_process_with_one_line(
        pool: Pool, data: st.DataObject) -> None:
    server = pool.live()
    before, inside, after = server.new_id(), server.new_id(), server.new_id()
    bad, readable = data.draw(malformed(inside), label="malformed")
    server.write(frame(body(before)) + bad + frame(body(after)))
    assert answered_or_exited(server, before)  # read before the stream broke
    # Probes: a stream that lost its framing must end on the next bytes, not wait forever.
    alive = True
    for _ in range(3):
        probe = server.new_id()
        if not server.write(frame(body(probe))) or not answered_or_exited(server, probe):
            alive = False
            break
    if not alive:
        assert_ended_with_one_line(server)
        return
    for msg_id in [before, *readable, after]:
        assert len(server.responses_to(msg_id)) == 1, (msg_id, server.responses_to(msg_id))
    assert server.stray == []


@pytest.mark.parametrize(("data", "says"), [
    (b"Content-Length: 99999999999\r\n\r\n", "a message of 99999999999 bytes, over the limit"),
    (b"Content-Length: 100\r\n\r\n{\"jsonrpc\"", "the stream ended 10 bytes into a message"),
    (b"Content-Length: 12\r\n", "the stream ended inside a message header"),
    (b"Content-Length: abc\r\n\r\n{}", "a Content-Length that is not a number"),
    (b"Content-Length: 0\r\n\r\n", "a message of 0 bytes"),
    (b"Content-Type: x\r\n\r\n{}", "a message header without Content-Length"),
])
def test_a_broken_stream_ends_the_process_with_its_reason(
        tmp_path: Path, data: bytes, says: str) -> None:
    server = RawServer(clean_env(tmp_path), tmp_path, tmp_path / "stderr.txt")
    try:
        server.write(data)
        assert server.proc.stdin is not None
        server.proc.stdin.close()  # the end of the stream, where it matters (a lying length)
        assert_ended_with_one_line(server)
        assert says in server.stderr()
    finally:
        server.stop()


def test_lf_only_headers_and_a_body_that_is_not_json_are_read_and_answered(
        tmp_path: Path) -> None:
    server = RawServer(clean_env(tmp_path), tmp_path, tmp_path / "stderr.txt")
    try:
        msg_id = server.new_id()
        raw = body(msg_id)
        server.write(b"Content-Length: %d\n\n" % len(raw) + raw)
        assert server.response(msg_id)["error"]["code"] == -32002  # read: not initialized
        server.write(frame(b"{not json"))
        error = server.wait_for(lambda m: m.get("id") is None and "error" in m, "parse error")
        assert error["error"]["code"] == -32700
        server.initialize(tmp_path)
        assert server.shutdown_and_exit() == 0
    finally:
        server.stop()
