"""Serving LSP on stdin/stdout, in place of pygls's ``start_io``.

- Frames are read by ``framing`` in a daemon thread (a blocking read is the one way to read
  any kind of stdin; a daemon thread never holds the process up at exit), handed to the event
  loop through a small queue (so a fast client cannot fill memory ahead of the server).
- A stream that cannot be parsed any more ends the process with one line on stderr and a
  non-zero code: the editor restarts a server that exits.
- ``exit`` ends it at once: the sessions still running are cancelled and given a moment to
  keep their answers and write the history; requests to the editor fail instead of waiting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, BinaryIO

from pygls.io_ import StdoutWriter

from ren_lsp.lsp.framing import FramingError, read_frames

if TYPE_CHECKING:
    from ren_lsp.lsp.language_server import RenLanguageServer

log = logging.getLogger(__name__)

#: Messages read ahead of the server.
QUEUE_SIZE = 8
#: Seconds the sessions still running at exit have to end (keep answers, write history).
EXIT_GRACE = 5.0
#: Exit code when the stream cannot be read any more (the editor should restart us).
EXIT_STREAM_ERROR = 1

_END = object()


def serve_stdio(server: RenLanguageServer, stdin: BinaryIO | None = None,
                stdout: BinaryIO | None = None) -> int:
    """Serve until ``exit``, the end of stdin or a broken stream; the exit code."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(
            _serve(server, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer))
    finally:
        _finish(loop)


async def _serve(server: RenLanguageServer, stdin: BinaryIO, stdout: BinaryIO) -> int:
    protocol = server.protocol
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue(QUEUE_SIZE)
    lost = asyncio.Event()
    protocol.on_lost = lost.set
    protocol.serving_stdio = True
    protocol.set_writer(StdoutWriter(stdout))
    threading.Thread(target=_pump, args=(_own_reader(stdin), loop, queue),
                     name="ren-lsp-stdin", daemon=True).start()
    code = 0
    while protocol.exit_code is None:
        item = await _next(queue, lost)
        if item is _END:
            break
        if isinstance(item, FramingError):
            _say(f"{item}; exiting so that the editor restarts the server")
            code = EXIT_STREAM_ERROR
            break
        if lost.is_set():
            _say("the editor closed the server's output; exiting")
            code = EXIT_STREAM_ERROR
            break
        assert isinstance(item, bytes)
        protocol.handle_body(item)
    if protocol.exit_code is not None:
        code = protocol.exit_code
    protocol.close()
    await _end_sessions(server)
    return code


def _own_reader(stdin: BinaryIO) -> BinaryIO:
    """A reader of its own over stdin's file descriptor: the thread blocks in it, and were it
    ``sys.stdin.buffer``, the interpreter's exit would abort on that buffer's lock."""
    try:
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return stdin
    return os.fdopen(os.dup(fd), "rb")


async def _next(queue: asyncio.Queue[object], lost: asyncio.Event) -> object:
    """The next frame (or end, or error); a broken output ends reading too."""
    if lost.is_set():
        return _END
    get = asyncio.ensure_future(queue.get())
    gone = asyncio.ensure_future(lost.wait())
    await asyncio.wait({get, gone}, return_when=asyncio.FIRST_COMPLETED)
    gone.cancel()
    if get.done():
        return get.result()
    get.cancel()
    return _END


def _pump(stdin: BinaryIO, loop: asyncio.AbstractEventLoop,
          queue: asyncio.Queue[object]) -> None:
    """The reader thread: frames into the queue, then the end (or the reason it stopped)."""
    item: object = _END
    try:
        for body in read_frames(stdin):
            asyncio.run_coroutine_threadsafe(queue.put(body), loop).result()
    except FramingError as exc:
        item = exc
    except (OSError, ValueError) as exc:
        item = FramingError(f"stdin could not be read ({type(exc).__name__})")
    except (RuntimeError, concurrent.futures.CancelledError):
        return  # the loop is closing or closed: the server is ending anyway
    with contextlib.suppress(RuntimeError, concurrent.futures.CancelledError):
        asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()


async def _end_sessions(server: RenLanguageServer) -> None:
    """Cancel what still runs and give it EXIT_GRACE to keep its answer and history."""
    tasks = [s.task for s in server.sessions.sessions.values()
             if s.task is not None and not s.task.done()]
    server.sessions.cancel()
    if tasks:
        _, late = await asyncio.wait(tasks, timeout=EXIT_GRACE)
        if late:
            log.warning("%d session(s) did not end within %g s of exit", len(late), EXIT_GRACE)


def _finish(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the remaining tasks (indexing, timers) and close the loop, without waiting for
    worker threads (a thread busy indexing must not hold up the exit)."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.wait(tasks, timeout=EXIT_GRACE))
    with contextlib.suppress(Exception):
        loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def _say(reason: str) -> None:
    """The one line an editor shows in its server log."""
    sys.stderr.write(f"ren-lsp: {reason}\n")  # not the log: its format is not one line
    sys.stderr.flush()
