"""`ren-lsp pr`: create a pull request from the terminal, through the same server the editors use.

It starts ren-lsp on stdio as an editor would, runs `ren.createPullRequest` in the current
repository, prints the preview when the server asks to confirm and asks on the terminal
(`y` creates it, `e` edits the preview in $VISUAL/$EDITOR first, anything else cancels).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the driver brings pytest-lsp: imported when `ren-lsp pr` runs, not before
    from lsprotocol import types

    from ren_lsp.cli.driver import Driver

TITLE = "Astra: Create pull request"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pr = sub.add_parser("pr", help="branch, commit, push and open a pull request of the changes",
                        description="Create a pull request of the current repository's changes "
                        "(or its branch's commits): Astra writes the commit message, title and "
                        "description unless given; the preview is printed and confirmed here.")
    pr.add_argument("--title", help="the pull request's title (default: Astra writes it)")
    pr.add_argument("--body", help="its description (default: Astra writes it)")
    pr.add_argument("--base", help="the branch to merge into (default: the default branch of the "
                    "repository the pull request opens on)")
    pr.add_argument("--remote", help="the remote to push to (default: the branch's remote, "
                    "else origin; origin when an `upstream` remote is beside it, which the "
                    "pull request then opens on)")
    pr.add_argument("--yes", action="store_true", help="create it without asking")
    pr.add_argument("--ready", action="store_true",
                    help="not a draft (default: pullRequests.draft, true)")


def argument(args: argparse.Namespace) -> dict[str, object]:
    """The command's argument object from the command line."""
    arg: dict[str, object] = {}
    for name in ("title", "body", "base", "remote"):
        value = getattr(args, name)
        if value is not None:
            arg[name] = value
    if args.ready:
        arg["draft"] = False
    if args.yes:
        arg["yes"] = True
    return arg


async def run_pr(args: argparse.Namespace) -> int:
    from lsprotocol import types

    from ren_lsp.cli.driver import Driver

    driver = Driver()
    driver.on_message_request = lambda params: _ask(driver, params)
    root = Path.cwd()
    await driver.start(root.as_uri())
    try:
        await driver.run(types.Command(title=TITLE, command="ren.createPullRequest",
                                       arguments=[argument(args)]), timeout=None)
    finally:
        await driver.stop()
    token = driver.last_session_token
    end = driver.progress.get(token or "", [{}])[-1].get("message", "")
    for message in driver.messages:
        if message.message.startswith(("Opened", "A pull request", "Pull request cancelled",
                                       "The pull request preview")):
            print(message.message)
    if end.startswith("Failed"):
        print(f"ren-lsp pr: {end.removeprefix('Failed: ')}", file=sys.stderr)
        return 1
    if not any(m.message.startswith(("Opened", "A pull request")) for m in driver.messages):
        print(end)
    return 0


async def _ask(driver: Driver, params: types.ShowMessageRequestParams) -> str | None:
    """Print the preview and the question; the user's answer on the terminal."""
    import asyncio  # here: every command line imports this module

    preview = next((uri for uri in reversed(list(driver.documents)) if uri.endswith(".md")),
                   None)
    while True:
        if preview is not None:
            print("\n" + driver.documents[preview].source.rstrip() + "\n", flush=True)
        answer = (await asyncio.to_thread(_input, f"{params.message} [y]es / [e]dit / [N]o: "))
        answer = answer.strip().lower()
        if answer in ("y", "yes"):
            return "Create"
        if answer in ("e", "edit") and preview is not None:
            edited = await asyncio.to_thread(_edit, driver.documents[preview].source)
            driver.replace_text(preview, edited)
            continue
        return "Cancel"


def _input(prompt: str) -> str:
    try:
        return input(prompt)
    except EOFError:  # no terminal: the user could not say yes
        return ""


def _edit(text: str) -> str:
    """``text`` as the user left it in their editor ($VISUAL, $EDITOR, else vi)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="ren-pr-") as directory:
        path = Path(directory) / "PULL_REQUEST.md"
        path.write_text(text, encoding="utf-8")
        subprocess.run([*shlex.split(editor), str(path)], check=False)
        return path.read_text(encoding="utf-8")
