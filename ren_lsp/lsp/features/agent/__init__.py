"""`ren.agent {task, verify?, maxSteps?, uri?, range?}`: plans, runs and verifies a multi-step
change with the six tools of DESIGN.md's contract; `ren.undo {session}` puts it back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
from lsprotocol import types

from ren_lsp.lsp import documents
from ren_lsp.lsp.commands import register_command
from ren_lsp.lsp.features.agent import undo as undo_module
from ren_lsp.lsp.features.agent.run import AgentRun, Plan, workspace_root

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.lsp.sessions import Session


@attrs.define
class AgentArgs:
    task: str
    verify: str | None = None
    maxSteps: int | None = None
    uri: str | None = None
    range: types.Range | None = None


@attrs.define
class UndoArgs:
    session: str


def agent(ls: Server, arg: AgentArgs) -> dict[str, str]:
    task = arg.task.strip()
    if not task:
        raise documents.invalid("task: say what the agent should do")
    target = None
    if arg.uri is not None:
        if arg.range is None:
            raise documents.invalid("range: give the range of uri the task is about")
        target = documents.target(ls, arg.uri, arg.range)
    verify = (arg.verify or "").strip() or None
    max_steps = arg.maxSteps or ls.settings.agent__max_steps
    title = "Astra: Agent"
    short = task if len(task) <= 60 else task[:59] + "…"

    async def run(s: Session) -> str:
        plan = Plan(task=task, root=workspace_root(ls), verify=verify, max_steps=max_steps,
                    target=target)
        doc = await s.open_transcript(f"{title} — {short}")
        return await AgentRun(ls, s, plan, doc)()

    return ls.sessions.run("ren.agent", title, run, task=task)


def undo(ls: Server, arg: UndoArgs) -> dict[str, str]:
    return undo_module.undo(ls, arg.session)


def register(server: Server) -> None:
    register_command(server, "ren.agent", AgentArgs, agent)
    register_command(server, "ren.undo", UndoArgs, undo)
