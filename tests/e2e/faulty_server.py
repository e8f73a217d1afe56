"""The real ren-lsp server, built as `ren-lsp serve` builds it, with two faults planted for the
tests of its internal-error paths (nothing in the shipped server fails on purpose):

- `ren.test.fail` (a command): raises an exception whose text stands for internals a client
  must not see (a path, a value);
- `ren/test/fail` (a notification): the same, where there is no request to answer.
"""

from __future__ import annotations

from typing import Any

from ren_lsp.logs import setup_logging
from ren_lsp.lsp.server import create_server

INTERNALS = "/home/someone/.config/ren-lsp/internal-state"


def main() -> None:
    server = create_server(redactor=setup_logging())

    @server.command("ren.test.fail")
    def fail(ls: Any, *args: Any) -> None:
        raise RuntimeError(f"cannot read {INTERNALS}")

    @server.feature("ren/test/fail")
    def fail_notification(ls: Any, params: Any) -> None:
        raise RuntimeError(f"cannot read {INTERNALS}")

    server.start_io()  # ren-lsp serves stdio itself (its framing, its exit), as `serve` does


if __name__ == "__main__":
    main()
