"""The `ren-lsp` command: serve (default), emulator, ask, context, doctor, demo, architecture,
agent, pr.

Every subcommand imports what it needs when it runs, so `ren-lsp --help` and the server's
start stay quick.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ren_lsp import __version__
from ren_lsp.architecture import cli as architecture_cli
from ren_lsp.cli import agent as agent_cli

if TYPE_CHECKING:
    from ren_lsp.config import Resolved

SUBCOMMANDS = ("serve", "emulator", "ask", "context", "doctor", "demo", "architecture",
               "agent", "pr")


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 0 to 65535")
    return port


def question_text(text: str) -> str:
    """An argparse type: a question with something in it (as :RenAsk refuses an empty one)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the question is empty: say what to ask")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ren-lsp",
        description="Astra, the coding model behind the Ren API, in any editor that speaks "
        "the Language Server Protocol. With no subcommand, serves LSP on stdio.",
    )
    parser.add_argument("--version", action="version", version=f"ren-lsp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve LSP on stdio (the default)",
                           description="Serve the Language Server Protocol on stdio.")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="serve on a TCP socket instead")
    serve.add_argument("--log-file", type=Path, help="also write the log to this file")
    serve.add_argument("-v", "--verbose", action="count", default=0,
                       help="more logging (-v info, -vv debug)")

    emu = sub.add_parser("emulator", help="run the local Ren API emulator",
                         description="Serve a local stand-in for the Ren API (canned, "
                         "deterministic replies, not AI). Prints its base URL first.")
    emu.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    emu.add_argument("--port", type=port_number, default=0,
                     help="port (default 0: any free port)")
    emu.add_argument("--key", help="accept only this API key (default: any non-empty key)")

    ask = sub.add_parser("ask", help="ask Astra a question, streaming the answer to stdout",
                         description="Ask Astra a question and stream the answer to stdout.")
    ask.add_argument("question", type=question_text)
    ask.add_argument("--file", type=Path, help="a file the question is about")
    ask.add_argument("--lines", metavar="A-B", help="only these lines of --file (1-based)")
    ask.add_argument("--workspace", type=Path, metavar="DIR",
                     help="the repository whose context the question carries (default: the "
                     "git work tree of --file, else of the current directory)")
    ask.add_argument("--emulator", action="store_true",
                     help="answer from an in-process emulator (no key needed)")

    context = sub.add_parser(
        "context", help="show the repository context a request would carry",
        description="Index the workspace (honouring .gitignore and .renignore, never reading "
        "secret files) and print the context a request would carry: a map of the most "
        "relevant files, then the most relevant code, secrets redacted.")
    context.add_argument("query", metavar="QUERY",
                         help="the question or instruction ('' for none)")
    context.add_argument("--workspace", type=Path, metavar="DIR",
                         help="the workspace folder (default: the current directory)")
    context.add_argument("--file", type=Path, help="the current file: the request is about it")
    context.add_argument("--lines", metavar="A-B",
                         help="the selection: these lines of --file (1-based, inclusive)")
    context.add_argument("--budget", type=int, metavar="TOKENS",
                         help="the most tokens the context may take (default: contextBudget)")
    context.add_argument("--json", action="store_true",
                         help="print {files: [{path, score, reasons}], tokens, context}")
    context.add_argument("--no-cache", action="store_true",
                         help="neither read nor write the index cache")

    doctor = sub.add_parser("doctor", help="check settings, the key and the connection",
                            description="Show each setting and where it came from, then check "
                            "that the Ren API is reachable, accepts the key and answers.")
    doctor.add_argument("--emulator", action="store_true",
                        help="check against an in-process emulator")

    sub.add_parser("demo", help="a guided demo on the built-in emulator (no key needed)",
                   description="Run ren-lsp end to end on the built-in emulator.")
    architecture_cli.add_parser(sub)
    agent_cli.add_parser(sub)
    from ren_lsp.cli.pr import add_parser

    add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    # `ren-lsp` alone (or with serve's options) serves, as editors expect.
    if args_list and not args_list[0].startswith("-") and args_list[0] not in SUBCOMMANDS:
        parser.error(f"unknown command {args_list[0]!r}: choose from "
                     f"{', '.join(SUBCOMMANDS)} (ren-lsp --help says what each does)")
    if not args_list or args_list[0] not in {*SUBCOMMANDS, "-h", "--help", "--version"}:
        args_list.insert(0, "serve")
    args = parser.parse_args(args_list)
    handler = {"serve": _serve, "emulator": _emulator, "ask": _ask, "context": _context,
               "doctor": _doctor, "demo": _demo, "pr": _pr,
               "architecture": architecture_cli.run, "agent": _agent}[args.command]
    try:
        code = handler(args)
        if not sys.stdout.closed:  # serving closes it at exit
            sys.stdout.flush()  # a closed pipe shows here, while it can still be handled
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        # `ren-lsp ask … | head`: the reader has all it wanted. End quietly, as cat does;
        # stdout now goes nowhere, so the interpreter's last flush raises nothing either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a writer killed by the pipe
    sys.exit(code)


def fail(message: str, code: int = 1) -> int:
    print(f"ren-lsp: {message}", file=sys.stderr)
    return code


def load(*, quiet: bool = False) -> Resolved:
    """The settings from defaults, the config file and the environment; problems on stderr
    (unless ``quiet``: the caller shows them itself)."""
    from ren_lsp.config import load_settings

    resolved = load_settings()
    for problem in [] if quiet else resolved.problems:
        print(f"ren-lsp: warning: {problem}", file=sys.stderr)
    return resolved


def _serve(args: argparse.Namespace) -> int:
    from ren_lsp.logs import setup_logging

    resolved = load()
    level = {0: resolved.settings.log_level, 1: "info"}.get(args.verbose, "debug")
    redactor = setup_logging(level=level, log_file=args.log_file)
    from ren_lsp.lsp.server import create_server

    server = create_server(resolved=resolved, redactor=redactor)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            return fail(f"--tcp takes HOST:PORT, e.g. 127.0.0.1:2087 (got {args.tcp!r})", 2)
        server.start_tcp(host, int(port))
        return 0
    code = server.serve_stdio()
    # End now: a worker thread still busy (indexing a big tree) must not keep the process
    # alive after exit; what has to be written (history, answers) is written by now.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


_T = TypeVar("_T")


def _run(main: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run``: imported only by the commands that need an event loop (not ``context``,
    whose cold start is measured)."""
    import asyncio

    return asyncio.run(main)


def _emulator(args: argparse.Namespace) -> int:
    from ren_lsp.emulator import serve_forever

    try:
        _run(serve_forever(args.host, args.port, args.key))
    except OSError as exc:
        return fail(f"the emulator could not listen on {args.host}:{args.port}: {exc}")
    return 0


def _ask(args: argparse.Namespace) -> int:
    from ren_lsp.cli.ask import run_ask

    return _run(run_ask(args, load()))


def _context(args: argparse.Namespace) -> int:
    from ren_lsp.context.cli import run_context

    return run_context(args, load().settings)


def _doctor(args: argparse.Namespace) -> int:
    from ren_lsp.cli.doctor import run_doctor

    return _run(run_doctor(load(quiet=True), emulator=args.emulator))


def _agent(args: argparse.Namespace) -> int:
    return _run(agent_cli.run_agent(args))


def _demo(args: argparse.Namespace) -> int:
    from ren_lsp.cli.demo import run_demo

    return _run(run_demo())


def _pr(args: argparse.Namespace) -> int:
    from ren_lsp.cli.pr import run_pr

    load()  # the settings' problems, shown once here (the server reads the same layers)
    return _run(run_pr(args))
