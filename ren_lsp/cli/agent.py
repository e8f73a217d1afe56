"""`ren-lsp agent TASK [--verify CMD] [--yes]`: the agent from a terminal.

It drives the real language server (as the demo does), so the run is the one an editor gets:
the transcript streams to stdout, each command the agent wants to run is asked for on the
terminal, and the run ends verified or not. ``--yes`` asks nothing: only the verify command
and the ``agent.allowedCommands`` prefixes run (as in an editor that cannot ask).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lsprotocol import types


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agent = sub.add_parser(
        "agent", help="let Astra carry out a task in the workspace, and verify it",
        description="Plan, run and verify a multi-step change in the workspace: Astra reads, "
        "searches and edits files and runs commands (each asked for here first), then the "
        "--verify command proves the result. Undo with `ren-lsp agent --undo SESSION`.")
    agent.add_argument("task", nargs="?", help="what to do, e.g. 'make the failing test pass'")
    agent.add_argument("--verify", metavar="CMD", help="the command that proves it, e.g. "
                       "'pytest -q' (runs without asking unless destructive)")
    agent.add_argument("--workspace", type=Path, metavar="DIR",
                       help="the workspace folder (default: the current directory)")
    agent.add_argument("--max-steps", type=int, metavar="N", help="the most tool calls")
    agent.add_argument("--yes", action="store_true",
                       help="ask nothing: run only the verify command and allowedCommands")
    agent.add_argument("--undo", metavar="SESSION",
                       help="put back the files that agent session changed")


async def _ask_on_terminal(params: types.ShowMessageRequestParams) -> str | None:
    import asyncio  # here: importing this module (every command line does) stays cheap

    actions = [a.title for a in params.actions or []]
    print(f"\n? {params.message}", file=sys.stderr)
    for number, title in enumerate(actions, 1):
        print(f"  {number}. {title}", file=sys.stderr)
    while True:
        try:
            answer = (await asyncio.to_thread(input, "choose a number (Enter: Skip): ")).strip()
        except EOFError:
            return None
        if not answer:
            return "Skip" if "Skip" in actions else None
        if answer.isdigit() and 1 <= int(answer) <= len(actions):
            return actions[int(answer) - 1]
        print(f"  (1 to {len(actions)})", file=sys.stderr)


async def run_agent(args: argparse.Namespace) -> int:
    import asyncio

    from lsprotocol import types

    from ren_lsp.cli.driver import Driver

    if not args.undo and not (args.task or "").strip():
        print("ren-lsp agent: say what to do, e.g. ren-lsp agent 'make the tests pass' "
              "--verify 'pytest -q'", file=sys.stderr)
        return 2
    if args.max_steps is not None and not 1 <= args.max_steps <= 200:
        print("ren-lsp agent: --max-steps takes 1 to 200", file=sys.stderr)
        return 2
    root = (args.workspace or Path.cwd()).resolve()
    if not root.is_dir():
        print(f"ren-lsp agent: {root} is not a folder", file=sys.stderr)
        return 2
    ask = not args.yes and sys.stdin.isatty()
    if not args.yes and not ask and not args.undo:
        print("ren-lsp agent: no terminal to ask on: only the verify command and "
              "agent.allowedCommands will run (--yes says so without this note)",
              file=sys.stderr)
    editor = Driver()
    editor.on_message_request = _ask_on_terminal if ask else None
    editor.on_append = lambda uri, text: (
        sys.stdout.write(text), sys.stdout.flush()) if uri.endswith(".md") else None
    await editor.start(root.as_uri())
    try:
        await editor.indexed()
        if args.undo:
            command = types.Command(title="undo", command="ren.undo",
                                    arguments=[{"session": args.undo}])
        else:
            arg: dict[str, object] = {"task": args.task}
            if args.verify:
                arg["verify"] = args.verify
            if args.max_steps:
                arg["maxSteps"] = args.max_steps
            command = types.Command(title="agent", command="ren.agent", arguments=[arg])
        try:
            result = await editor.run(command, timeout=None)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await editor.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="ren.cancel", arguments=[{}]))
            raise
    except Exception as exc:  # the server refused the argument, or died
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        print(f"\nren-lsp agent: {message}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(Exception):
            await editor.stop()
    ended = str(result.get("ended", ""))
    errors = [m.message for m in editor.messages if m.type == types.MessageType.Error]
    print(f"\n{ended}", file=sys.stderr)
    for message in errors:
        print(f"ren-lsp agent: {message}", file=sys.stderr)
    good = ended.startswith(("Verified", "Done", "Restored"))
    return 0 if good and not errors else 1
