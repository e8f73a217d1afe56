"""The real server (``python -m ren_lsp``) driven over its raw stdio: bytes written to its stdin
as they are (malformed ones too), frames read from its stdout by a strict reader.

The server's own requests (progress, applyEdit…) are answered by ``answers`` (method -> a
function of the params giving the result, or ``NO_ANSWER`` to leave it unanswered, as a stuck
editor would). Waits are on a condition the reader thread signals, never on sleeps; the
deadline is only a safety net so a broken server fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Safety net for one wait (a passing test never comes near it).
DEADLINE = float(os.environ.get("RAW_STDIO_DEADLINE", "60"))
NO_ANSWER = object()

Message = dict[str, Any]


def frame(body: bytes | str | dict[str, Any]) -> bytes:
    """One well-formed frame around ``body`` (a dict is JSON-encoded)."""
    data = (json.dumps(body) if isinstance(body, dict) else body)
    raw = data.encode() if isinstance(data, str) else data
    return b"Content-Length: %d\r\n\r\n%s" % (len(raw), raw)


def default_answers() -> dict[str, Callable[[Any], Any]]:
    return {
        "window/workDoneProgress/create": lambda _: None,
        "client/registerCapability": lambda _: None,
        "workspace/configuration": lambda params: [None for _ in params.get("items", [])],
        "window/showDocument": lambda _: {"success": True},
        "workspace/applyEdit": lambda _: {"applied": True},
        "window/showMessageRequest": lambda _: None,
    }


class RawServer:
    """One server process and everything it wrote."""

    def __init__(self, env: dict[str, str], cwd: Path, stderr_path: Path,
                 module: str = "ren_lsp") -> None:
        self.answers = default_answers()
        self.messages: list[Message] = []
        self.stray: list[bytes] = []  # stdout bytes that were not a frame (must stay empty)
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        self._changed = threading.Condition()
        self._next_id = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, env=env, cwd=cwd)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- writing --------------------------------------------------------------------------

    def write(self, data: bytes) -> bool:
        """Raw bytes to the server's stdin; False if it is closed (the server ended)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            return False
        return True

    def request(self, method: str, params: Any = None) -> int:
        """Send a well-formed request; its id."""
        self._next_id += 1
        message: Message = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.write(frame(message))
        return self._next_id

    def notify(self, method: str, params: Any = None) -> None:
        message: Message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.write(frame(message))

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def initialize(self, root: Path, capabilities: dict[str, Any] | None = None,
                   options: dict[str, Any] | None = None) -> Message:
        caps = capabilities if capabilities is not None else {
            "window": {"workDoneProgress": True, "showDocument": {"support": True}},
            "workspace": {"applyEdit": True, "workspaceEdit": {"documentChanges": True}}}
        result = self.call("initialize", {"processId": None, "rootUri": root.as_uri(),
                                          "capabilities": caps,
                                          "initializationOptions": options})
        assert "result" in result, result
        self.notify("initialized", {})
        return result

    def call(self, method: str, params: Any = None) -> Message:
        """A request and its response."""
        return self.response(self.request(method, params))

    def shutdown_and_exit(self) -> int:
        self.call("shutdown")
        self.notify("exit")
        return self.wait_exit()

    # -- reading --------------------------------------------------------------------------

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            header = out.readline()
            if not header:
                break
            if not header.startswith(b"Content-Length: ") or not header.endswith(b"\r\n"):
                self.stray.append(header)
                continue
            length = int(header[16:-2])
            blank = out.readline()
            if blank != b"\r\n":  # pygls sends Content-Type too
                blank = out.readline()
            body = out.read(length)
            message = json.loads(body)
            with self._changed:
                self.messages.append(message)
                self._changed.notify_all()
            self._answer(message)
        # The end of stdout comes just before the process ends: wait for it, so a waiter
        # woken now sees the exit (nothing else would wake it again).
        self.proc.wait()
        with self._changed:
            self._changed.notify_all()

    def _answer(self, message: Message) -> None:
        if "method" not in message or "id" not in message:
            return
        answer = self.answers.get(message["method"])
        if answer is None:
            return
        result = answer(message.get("params"))
        if result is NO_ANSWER:
            return
        reply = result if isinstance(result, dict) and result.get("__raw__") else None
        if reply is not None:  # a raw reply (an error answer, a malformed one)
            body = {"jsonrpc": "2.0", "id": message["id"], **reply["__raw__"]}
        else:
            body = {"jsonrpc": "2.0", "id": message["id"], "result": result}
        self.write(frame(body))

    def wait_for(self, predicate: Callable[[Message], bool], what: str,
                 start: int = 0) -> Message:
        """The first message (from index ``start``) matching ``predicate``."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((m for m in self.messages[start:] if predicate(m)), None)
                or (self.proc.poll() is not None and not self._reader.is_alive()),
                timeout=DEADLINE)
            match = next((m for m in self.messages[start:] if predicate(m)), None)
        if match is None:
            raise AssertionError(f"no {what} (server exited: {self.proc.poll()}, found: "
                                 f"{bool(found)}); stderr:\n{self.stderr()[-3000:]}")
        return match

    async def until(self, predicate: Callable[[Message], bool], what: str,
                    start: int = 0) -> Message:
        """``wait_for`` from async code (the emulator's loop keeps running meanwhile)."""
        return await asyncio.to_thread(self.wait_for, predicate, what, start)

    def response(self, msg_id: Any) -> Message:
        return self.wait_for(lambda m: m.get("id") == msg_id and "method" not in m,
                             f"response to {msg_id!r}")

    def responses_to(self, msg_id: Any) -> list[Message]:
        with self._changed:
            return [m for m in self.messages if m.get("id") == msg_id and "method" not in m]

    def wait_exit(self) -> int:
        """The exit code (the process must end by itself)."""
        try:
            return self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the server did not exit; stderr:\n{self.stderr()[-3000:]}") from None

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> None:
        """End the process whatever state it is in (teardown)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
