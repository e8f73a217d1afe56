"""One agent run: many model turns with the six tools, then verification, within bounds.

The model's text between tool calls is its plan and narration; it streams into the
transcript with each tool call, a short result, the diff of each edit and the verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from lsprotocol import types

from ren_lsp import prompts
from ren_lsp.lsp.features.agent.checkpoints import Checkpoint
from ren_lsp.lsp.features.agent.commands import CommandRunner, StopRun
from ren_lsp.lsp.features.agent.tools import TOOLS, Outcome, Tools
from ren_lsp.lsp.sessions import SessionError
from ren_lsp.models import Request, ToolCall, ToolResult, Turn

if TYPE_CHECKING:
    from ren_lsp.lsp.documents import Target
    from ren_lsp.lsp.output import OutputDocument
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.lsp.sessions import Session

#: the same call with the same result this many times in a row stops the run
LOOP_REPEATS = 3


@attrs.define
class Plan:
    """What one run was asked: the task, its verification, its bounds, the selection."""

    task: str
    root: Path
    verify: str | None
    max_steps: int
    target: Target | None = None


class Bound(Exception):
    """The run hit a bound: it ends by itself and says which."""


def _brief(call: ToolCall) -> str:
    """A tool call as the progress bar and the transcript name it: ``edit_file calc.py``."""
    value = next((str(call.input[k]) for k in ("path", "command", "query")
                  if isinstance(call.input.get(k), str)), "")
    value = value if len(value) <= 60 else value[:59] + "…"
    return f"{call.name} {value}".strip()


class AgentRun:
    def __init__(self, ls: Server, s: Session, plan: Plan, doc: OutputDocument) -> None:
        settings = ls.settings
        self.ls, self.s, self.plan, self.doc = ls, s, plan, doc
        self.checkpoint = Checkpoint(s.id, str(plan.root))
        self.runner = CommandRunner(s, plan.root, verify=plan.verify,
                                    prefixes=list(settings.agent__allowed_commands),
                                    timeout=settings.agent__command_timeout)
        self.tools = Tools(ls, plan.root, self.checkpoint, self.runner, s.secrets)
        self.max_fixes = settings.agent__max_fix_attempts
        self.max_tokens = settings.agent__max_tokens
        self.steps = 0
        self.tokens = 0
        self._last: list[tuple[str, str, str]] = []

    async def __call__(self) -> str:
        s, plan = self.s, self.plan
        model = self.ls.model("agent")
        if not model.supports_tools:
            raise SessionError(f"the {model.backend} backend cannot call tools, which the agent "
                               "needs: choose another provider for it")
        context = await s.context(question=plan.task,
                                  uri=plan.target.uri if plan.target else None,
                                  selection=plan.target.text if plan.target else "")
        target = plan.target
        first = prompts.agent_task(plan.task, verify=plan.verify,
                                   path=target.path if target else None,
                                   code=target.text if target else None,
                                   first_line=target.first_line if target else 1,
                                   context=context.text)
        request = Request(turns=[Turn.user(first)], system=prompts.AGENT_SYSTEM,
                          tools=list(TOOLS))
        self.doc.append(f"**Task:** {plan.task}\n\n")
        s.history.update(task=plan.task, verify=plan.verify, checkpoint=s.id)
        try:
            verdict = await self._converse(request)
        except Bound as bound:
            verdict = f"Stopped: {bound}"
        except StopRun as stop:
            verdict = f"Stopped: {stop}"
        changed = self.checkpoint.changed
        s.history["changed"] = changed
        files = f"{len(changed)} file{'s' if len(changed) != 1 else ''} changed"
        undo = f" (undo: ren.undo {{\"session\": \"{s.id}\"}})" if changed else ""
        summary = f"{verdict}; {self.steps} step{'s' if self.steps != 1 else ''}, {files}{undo}"
        self.doc.append(f"\n\n## {verdict}\n\n{files}: {', '.join(changed) or 'none'}.\n")
        s.hold()
        await self.doc.close()
        self.ls.show_message(f"{s.title}: {summary}", types.MessageType.Info)
        return summary

    async def _converse(self, request: Request) -> str:
        fixes = 0
        while True:
            reply = await self.s.ask(request, on_text=self.doc.append, role="agent")
            self.tokens += reply.usage.input_tokens + reply.usage.output_tokens
            request = request.then(reply.turn())
            if reply.tool_calls:
                results = [await self._step(call) for call in reply.tool_calls]
                request = request.then(Turn.user(*results))
                self._budget()
                continue
            if reply.stop_reason == "max_tokens":
                raise Bound("the answer reached maxTokens before the task was done")
            if not self.plan.verify:
                return "Done (no verification command)"
            outcome = await self._verify()
            if outcome.exit_code == 0:
                return f"Verified: `{self.plan.verify}` passed"
            if fixes >= self.max_fixes:
                return (f"Not verified: `{self.plan.verify}` still fails after {fixes} fix "
                        f"attempt{'s' if fixes != 1 else ''} (agent.maxFixAttempts)")
            fixes += 1
            self._budget()
            request = request.then(Turn.user(prompts.verification_failed(
                self.plan.verify, outcome.exit_code, outcome.content)))

    async def _step(self, call: ToolCall) -> ToolResult:
        if self.steps >= self.plan.max_steps:
            raise Bound(f"the step bound was reached (maxSteps {self.plan.max_steps})")
        self.steps += 1
        brief = _brief(call)
        self.s.report(f"step {self.steps}/{self.plan.max_steps}: {brief}")
        self.doc.append(f"\n\n### Step {self.steps} · `{brief}`\n\n")
        outcome = await self.tools.run(call.name, call.input)
        self._show(outcome)
        self._guard(call, outcome)
        # What a tool read or printed leaves the machine: secrets in it are redacted (a key in a
        # config file, a token in a command's output) with the session's numbered marks, which
        # the file tools put back when the agent writes them.
        content = self.s.secrets.redact(outcome.content)
        return ToolResult(call.id, self.s.redact(content), outcome.is_error, name=call.name)

    def _show(self, outcome: Outcome) -> None:
        mark = "✗" if outcome.is_error else "→"
        first = (outcome.content.splitlines() or [""])[0]
        text = f"{mark} {outcome.summary or first[:100]}\n"
        if outcome.is_error and outcome.summary:
            text += f"\n> {first}\n"
        if outcome.diff:
            text += f"\n{prompts.fence(outcome.diff, 'diff')}\n"
        self.doc.append(text)

    def _guard(self, call: ToolCall, outcome: Outcome) -> None:
        key = (call.name, json.dumps(call.input, sort_keys=True), outcome.content)
        self._last = [*self._last[-(LOOP_REPEATS - 1):], key]
        if len(self._last) == LOOP_REPEATS and len(set(self._last)) == 1:
            raise Bound(f"the same {call.name} call gave the same result {LOOP_REPEATS} "
                        "times in a row (loop guard)")

    def _budget(self) -> None:
        if self.tokens >= self.max_tokens:
            raise Bound(f"the token budget was used ({self.tokens} of agent.maxTokens "
                        f"{self.max_tokens})")

    async def _verify(self) -> Outcome:
        command = self.plan.verify
        assert command is not None
        self.s.report(f"verifying: {command}")
        self.doc.append(f"\n\n### Verification · `{command}`\n\n")
        outcome = await self.runner.run(command)
        self._show(outcome)
        return outcome


def workspace_root(ls: Server) -> Path:
    """The folder the agent works in: the first workspace folder."""
    roots = ls.indexing.roots()
    if not roots:
        raise SessionError("no workspace folder is open: open the folder the task is about")
    return roots[0]

