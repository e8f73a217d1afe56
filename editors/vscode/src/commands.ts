/**
 * The palette commands. Each server command (`ren.explain`, …) gets one that builds its
 * argument from the active editor (requests.ts), with an input box where an instruction or a
 * question is needed; plus the extension's own (key, restart, log).
 *
 * The server registers `ren.explain` & co. itself (vscode-languageclient turns its
 * executeCommandProvider into VS Code commands, which its code actions run), so the palette
 * commands have ids of their own.
 */
import type * as vscode from "vscode";
import {
  agentRequest,
  architectureRequest,
  askRequest,
  commentInstruction,
  completeRequest,
  explainRequest,
  fixRequest,
  generateRequest,
  pullRequestRequest,
  refactorRequest,
  unsupported,
  type Built,
  type Request,
  type ServerCommand,
} from "./requests";
import type { ApiKeyStore } from "./secrets";
import { checkKey } from "./secrets";
import type { RunningSession, SessionTracker } from "./status";

/** A palette command: its id, its title (category "Ren") and the server command it runs. */
export interface PaletteCommand {
  id: string;
  title: string;
  runs?: ServerCommand;
  /** shown only where the server has the document (package.json's `when`) */
  needsEditor?: boolean;
}

export const PALETTE: readonly PaletteCommand[] = [
  { id: "ren.explainSelection", title: "Explain selection", runs: "ren.explain", needsEditor: true },
  { id: "ren.refactorSelection", title: "Refactor selection…", runs: "ren.refactor", needsEditor: true },
  { id: "ren.fixSelection", title: "Fix problems in selection", runs: "ren.fix", needsEditor: true },
  { id: "ren.generateCode", title: "Generate code after this line…", runs: "ren.generate", needsEditor: true },
  { id: "ren.completeHere", title: "Complete here (one edit)", runs: "ren.complete", needsEditor: true },
  { id: "ren.askQuestion", title: "Ask about the codebase…", runs: "ren.ask" },
  { id: "ren.analyzeWorkspace", title: "Analyze architecture…", runs: "ren.analyzeArchitecture" },
  { id: "ren.runAgent", title: "Run agent…", runs: "ren.agent" },
  { id: "ren.undoAgent", title: "Undo an agent run…", runs: "ren.undo" },
  { id: "ren.pullRequest", title: "Create pull request…", runs: "ren.createPullRequest" },
  { id: "ren.cancelRequest", title: "Cancel a running request…", runs: "ren.cancel" },
  { id: "ren.setApiKey", title: "Set API key" },
  { id: "ren.clearApiKey", title: "Clear API key" },
  { id: "ren.restartServer", title: "Restart server" },
  { id: "ren.showLog", title: "Show log" },
];

/** What the handlers use of VS Code and of the running server; faked in tests. */
export interface CommandDeps {
  window: Pick<
    typeof vscode.window,
    "activeTextEditor" | "showInputBox" | "showErrorMessage" | "showInformationMessage" | "showQuickPick"
  >;
  diagnostics(uri: vscode.Uri): readonly vscode.Diagnostic[];
  server: {
    /** Sends the command; resolves to its answer, or undefined when it failed (already shown). */
    execute(request: Request): Promise<unknown>;
    /** Cancels one session through its progress token (as the progress bar's button does). */
    cancelProgress(token: string): void;
    restart(): Promise<void>;
  };
  tracker: SessionTracker;
  keys: ApiKeyStore;
  showLog(): void;
}

export function commandHandlers(deps: CommandDeps): Record<string, () => Promise<unknown>> {
  const { window, server } = deps;
  // What the user typed last time, offered again.
  let lastVerify = "";
  let lastAgent = "";
  const send = async (built: Built): Promise<unknown> => {
    if ("error" in built) {
      await window.showErrorMessage(`Ren: ${built.error}`);
      return undefined;
    }
    return server.execute(built);
  };
  return {
    "ren.explainSelection": () => send(explainRequest(window.activeTextEditor)),

    "ren.refactorSelection": async () => {
      const editor = window.activeTextEditor;
      const checked = refactorRequest(editor);
      if ("error" in checked) {
        return send(checked);
      }
      const instruction = await window.showInputBox({
        title: "Ren: Refactor selection",
        prompt: "How should Astra change it? Leave empty to improve clarity and keep behaviour.",
        placeHolder: "e.g. use a dataclass; extract the loop into a function",
        ignoreFocusOut: true,
      });
      if (instruction === undefined) {
        return undefined; // Escape: nothing is sent
      }
      return send(refactorRequest(editor, instruction));
    },

    "ren.fixSelection": () => {
      const editor = window.activeTextEditor;
      return send(fixRequest(editor, editor ? deps.diagnostics(editor.document.uri) : []));
    },

    "ren.generateCode": async () => {
      const editor = window.activeTextEditor;
      const checked = unsupported(editor);
      if (checked !== undefined || editor === undefined) {
        return send({ error: checked ?? "" });
      }
      const line = editor.selection.isEmpty ? editor.selection.active.line : editor.selection.end.line;
      const instruction = await window.showInputBox({
        title: "Ren: Generate code",
        prompt: "What should Astra write after this line?",
        value: commentInstruction(editor.document.lineAt(line).text) ?? "",
        placeHolder: "e.g. a function that parses the header and returns its fields",
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : "Say what code to write."),
      });
      if (instruction === undefined) {
        return undefined;
      }
      return send(generateRequest(editor, instruction));
    },

    "ren.completeHere": () => send(completeRequest(window.activeTextEditor)),

    "ren.askQuestion": async () => {
      const editor = window.activeTextEditor;
      const withSelection = editor !== undefined && unsupported(editor) === undefined && !editor.selection.isEmpty;
      const question = await window.showInputBox({
        title: "Ren: Ask about the codebase",
        prompt: withSelection ? "Your question (the selected code goes with it)" : "Your question",
        placeHolder: "e.g. where are invoices rounded?",
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : "Type a question."),
      });
      if (question === undefined) {
        return undefined;
      }
      return send(askRequest(editor, question));
    },

    "ren.analyzeWorkspace": async () => {
      const folder = await window.showInputBox({
        title: "Ren: Analyze architecture",
        prompt: "A folder relative to the workspace root, or empty for the whole workspace",
        placeHolder: "e.g. src/billing",
        ignoreFocusOut: true,
      });
      if (folder === undefined) {
        return undefined;
      }
      return send(architectureRequest(folder));
    },

    "ren.runAgent": async () => {
      const task = await window.showInputBox({
        title: "Ren: Run agent (1/2)",
        prompt: "What should Astra do? It asks before running any command.",
        placeHolder: "e.g. make the failing test in tests/test_billing.py pass",
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : "Say what the agent should do."),
      });
      if (task === undefined) {
        return undefined;
      }
      const verify = await window.showInputBox({
        title: "Ren: Run agent (2/2)",
        prompt: "The command that proves it is done (runs without asking), or empty for none",
        placeHolder: "e.g. pytest -q",
        value: lastVerify,
        ignoreFocusOut: true,
      });
      if (verify === undefined) {
        return undefined;
      }
      lastVerify = verify;
      const answer = (await send(agentRequest(window.activeTextEditor, task, verify))) as
        | { session?: string }
        | undefined;
      lastAgent = answer?.session ?? lastAgent;
      return answer;
    },

    "ren.undoAgent": async () => {
      const session = await window.showInputBox({
        title: "Ren: Undo an agent run",
        prompt: "The agent session to undo (its final message names it)",
        value: lastAgent,
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : "Give the session id."),
      });
      if (session === undefined) {
        return undefined;
      }
      return send({ command: "ren.undo", session: session.trim() });
    },

    "ren.pullRequest": async () => {
      const title = await window.showInputBox({
        title: "Ren: Create pull request",
        prompt: "A title, or empty for Astra to write it; a preview opens before anything is pushed",
        placeHolder: "e.g. Round invoice totals once",
        ignoreFocusOut: true,
      });
      if (title === undefined) {
        return undefined; // Escape: nothing is sent
      }
      return send(pullRequestRequest(title));
    },

    "ren.cancelRequest": () => cancelRequest(deps),

    "ren.setApiKey": async () => {
      const key = await window.showInputBox({
        title: "Ren: Set API key",
        prompt: "Your Ren API key. It is kept in VS Code's secret storage, never in settings.",
        password: true,
        ignoreFocusOut: true,
        validateInput: checkKey,
      });
      if (key === undefined) {
        return undefined;
      }
      await deps.keys.store(key); // the server restarts with it (secrets.onDidChange)
      void window.showInformationMessage("Ren: the API key is stored; the server restarts to use it.");
      return undefined;
    },

    "ren.clearApiKey": async () => {
      await deps.keys.clear();
      void window.showInformationMessage(
        "Ren: the API key is removed from VS Code. The server now uses REN_API_KEY, apiKeyCommand or its config file.",
      );
      return undefined;
    },

    "ren.restartServer": () => server.restart(),

    "ren.showLog": () => {
      deps.showLog();
      return Promise.resolve(undefined);
    },
  };
}

interface CancelItem extends vscode.QuickPickItem {
  session?: RunningSession;
}

/** One running request (by its progress token), or all of them (`ren.cancel {}`). */
async function cancelRequest(deps: CommandDeps): Promise<unknown> {
  const running = deps.tracker.running();
  if (running.length === 0) {
    // The tracker knows sessions by their progress; ask the server anyway, it knows best.
    const answer = (await deps.server.execute({ command: "ren.cancel" })) as { cancelled?: string[] } | undefined;
    if (answer !== undefined && (answer.cancelled ?? []).length === 0) {
      void deps.window.showInformationMessage("Ren: no request is running.");
    }
    return answer;
  }
  const items: CancelItem[] = [
    ...running.map((session) => ({ label: session.title, description: session.message ?? "", session })),
    { label: "$(close-all) Cancel all running requests" },
  ];
  const picked = await deps.window.showQuickPick(items, { title: "Ren: Cancel a running request" });
  if (picked === undefined) {
    return undefined;
  }
  if (picked.session !== undefined) {
    deps.server.cancelProgress(picked.session.token);
    return undefined;
  }
  return deps.server.execute({ command: "ren.cancel" });
}
