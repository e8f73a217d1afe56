/**
 * The bundled extension (dist/extension.js, as the .vsix carries it) in a stand-in extension
 * host, running the real ren-lsp server against the Ren API emulator: activation, the key
 * through the environment, the settings the server gets, palette commands, progress and the
 * status bar, restart. VS Code itself cannot be downloaded here; everything but VS Code's UI
 * is real.
 *
 * Needs a Python with ren-lsp: REN_LSP_PYTHON, else the repository's .venv (`.ci/run` makes
 * it), else python3 on PATH.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOptions } from "../scripts/build.mjs";
import * as host from "./vscode";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../../..");
const KEY = "ren-test-key-3f9a";
const TIMEOUT = 15_000;

function findPython(): string {
  const candidates = [process.env.REN_LSP_PYTHON, path.join(ROOT, ".venv/bin/python"), "python3"].filter(
    (c): c is string => Boolean(c),
  );
  for (const python of candidates) {
    try {
      execFileSync(python, ["-c", "import ren_lsp"], { stdio: "ignore" });
      return python;
    } catch {
      // next one
    }
  }
  throw new Error(
    "This test runs the real server and needs a Python with ren-lsp: run " +
      "`python3 -m venv .venv && .venv/bin/pip install -e .` at the repository root, or set REN_LSP_PYTHON.",
  );
}

async function until<T>(what: string, probe: () => T | undefined | false, timeout = TIMEOUT): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}\nlog:\n${log().join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const log = (): string[] => host.outputLines.get("Ren") ?? [];
const statusItem = (): host.FakeStatusBarItem | undefined => items.find((item) => item.id === "ren.status");
const items: host.FakeStatusBarItem[] = [];
/** Every text the status bar item showed, in order. */
const statusTexts: string[] = [];

interface Extension {
  activate(context: unknown): void;
  deactivate(): Promise<void>;
}

let work: string;
let emulator: ChildProcess;
let baseUrl: string;
let extension: Extension;
const secrets = new Map<string, string>();
const secretsChanged = new host.EventEmitter<{ key: string }>();
const sessionsDir = (): string => path.join(work, "state", "ren-lsp", "sessions");

beforeAll(async () => {
  const python = findPython();
  work = mkdtempSync(path.join(tmpdir(), "ren-vscode-"));
  // The server inherits this process's environment: keep the user's config, key and state out.
  process.env.XDG_CONFIG_HOME = path.join(work, "config");
  process.env.XDG_STATE_HOME = path.join(work, "state");
  delete process.env.REN_API_KEY;
  delete process.env.REN_CONFIG;
  for (const name of Object.keys(process.env).filter((n) => n.startsWith("REN_") && n !== "REN_LSP_PYTHON")) {
    delete process.env[name];
  }

  emulator = spawn(python, ["-m", "ren_lsp", "emulator", "--port", "0", "--key", KEY], { stdio: ["ignore", "pipe", "inherit"] });
  baseUrl = await new Promise<string>((resolve, reject) => {
    emulator.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString().trim().split("\n")[0] ?? ""));
    emulator.once("exit", (code) => reject(new Error(`the emulator exited (${code})`)));
  });

  const outfile = path.join(work, "extension.js");
  await esbuild.build(buildOptions({ outfile }));
  await esbuild.stop(); // its service process ends now, not with vitest
  extension = createRequire(import.meta.url)(outfile) as Extension;

  const create = host.window.createStatusBarItem.bind(host.window);
  host.window.createStatusBarItem = (...args) => {
    const item = create(...args);
    let text = item.text;
    Object.defineProperty(item, "text", {
      get: () => text,
      set: (value: string) => {
        text = value;
        statusTexts.push(value);
      },
    });
    items.push(item);
    return item;
  };
  host.settings.set("ren.server.python", { defaultValue: "", globalValue: python });
  host.settings.set("ren.baseUrl", { defaultValue: "https://api.ren.ai", globalValue: baseUrl });
  host.settings.set("ren.maxTokens", { defaultValue: 4096, globalValue: 512 });
  host.settings.set("ren.model", { defaultValue: "astra" }); // a default only: never sent
  host.settings.set("ren.trace.server", { defaultValue: "off", globalValue: "verbose" });
  secrets.set("ren.apiKey", KEY);
  host.workspace.textDocuments.push(
    host.textDocument(host.Uri.file(path.join(work, "billing.py")), "python", "def total(items):\n    return sum(i.price for i in items)\n"),
    host.textDocument(host.Uri.file(path.join(work, "notes.md")), "markdown", "# notes\n"),
  );
}, 60_000);

afterAll(async () => {
  await extension?.deactivate();
  emulator?.kill();
  if (work) {
    rmSync(work, { recursive: true, force: true });
  }
});

const packageJSON = JSON.parse(readFileSync(path.join(HERE, "../package.json"), "utf8")) as {
  contributes: { commands: { command: string }[] };
};
const context = {
  subscriptions: [] as { dispose(): unknown }[],
  extension: { packageJSON },
  // The extension's folder (server/ holds the wheel a .vsix carries) and its storage.
  get extensionPath() {
    return work;
  },
  get globalStorageUri() {
    return { fsPath: path.join(work, "storage") };
  },
  secrets: {
    get: (key: string) => Promise.resolve(secrets.get(key)),
    store: (key: string, value: string) => {
      secrets.set(key, value);
      secretsChanged.fire({ key });
      return Promise.resolve();
    },
    delete: (key: string) => {
      secrets.delete(key);
      secretsChanged.fire({ key });
      return Promise.resolve();
    },
    onDidChange: secretsChanged.event,
  },
};

const run = (command: string, ...args: unknown[]) => host.commands.executeCommand(command, ...args);

describe("the bundled extension with the real server", () => {
  it("activates, registers every palette command and starts the server", async () => {
    extension.activate(context);
    for (const { command } of packageJSON.contributes.commands) {
      expect(host.registeredCommands.has(command), command).toBe(true);
    }
    expect(host.executedCommands).toContainEqual({ command: "setContext", args: ["ren.languages", expect.arrayContaining(["python", "go"])] });
    await until("the server to run", () => statusItem()?.text === "$(sparkle) Ren");
    // vscode-languageclient registered the server's own commands, which its code actions run.
    await until("the server's commands", () => host.registeredCommands.has("ren.explain"));
    expect(log().some((line) => line.includes("-m ren_lsp (from ren.server.python); API key from VS Code's secret storage"))).toBe(true);
  });

  it("sends only the settings the user set, and never the key", async () => {
    const initialize = log().find((line) => line.includes("Sending request 'initialize"));
    expect(initialize).toBeDefined();
    const options = /"initializationOptions": (\{[^}]*\})/.exec(log().join("\n"))?.[1];
    // ren.baseUrl (user-only) reaches the server in its environment, which the server trusts;
    // it refuses user-only settings from the editor.
    expect(JSON.parse(options ?? "null")).toEqual({ maxTokens: 512 });
    // The answer to the server's workspace/configuration pull: the same values, nothing else.
    const answer = await until("the server's workspace/configuration request", () =>
      /Sending response 'workspace\/configuration[^\n]*\nResult: (\[[^]*?\n\])/.exec(log().join("\n"))?.[1],
    );
    expect(JSON.parse(answer)).toEqual([{ maxTokens: 512 }]);
    expect(log().join("\n")).not.toContain(KEY);
  });

  it("syncs documents of real languages only", () => {
    const opened = log().filter((line) => line.includes("Sending notification 'textDocument/didOpen'"));
    expect(opened).toHaveLength(1);
    expect(log().join("\n")).toContain("billing.py");
    expect(log().join("\n")).not.toContain("notes.md");
  });

  it("explains a selection: a session, a cancellable notification, the status bar count, the answer", async () => {
    const document = host.workspace.textDocuments[0];
    host.window.activeTextEditor = { document, selection: new host.Selection(new host.Position(0, 0), new host.Position(1, 0)) };
    host.progresses.length = 0;
    host.appliedEdits.length = 0;
    const before = existsSync(sessionsDir()) ? readdirSync(sessionsDir()).length : 0;
    const answer = (await run("ren.explainSelection")) as { session: string };
    expect(answer.session).toMatch(/^[0-9a-f]{8}$/);
    const shown = await until("the progress notification", () => host.progresses[0]);
    expect(shown.options).toMatchObject({ location: host.ProgressLocation.Notification, title: "Astra: Explain", cancellable: true });
    await until("the session to end", () => shown.done);
    expect(statusItem()?.text).toBe("$(sparkle) Ren");
    // The answer streams into the output document (a Markdown file, opened and appended to).
    const files = await until("the output document", () => existsSync(sessionsDir()) && readdirSync(sessionsDir()).length > before && readdirSync(sessionsDir()));
    const file = files.find((f) => f.includes(answer.session));
    expect(file).toBeDefined();
    const uri = host.Uri.file(path.join(sessionsDir(), file ?? "")).toString();
    const streamed = host.appliedEdits.filter((e) => e.uri === uri).flatMap((e) => e.edits.map((edit) => edit.newText));
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed.join("")).toContain("Ren emulator");
    expect(host.messages.filter((m) => m.kind === "error")).toEqual([]);
  });

  it("refactors a selection with one edit of the file", async () => {
    const document = host.workspace.textDocuments[0];
    host.window.activeTextEditor = { document, selection: new host.Selection(new host.Position(0, 0), new host.Position(2, 0)) };
    host.window.showInputBox = () => Promise.resolve("use a generator");
    host.appliedEdits.length = 0;
    const answer = (await run("ren.refactorSelection")) as { session: string };
    expect(answer.session).toMatch(/^[0-9a-f]{8}$/);
    const edit = await until("the edit", () => host.appliedEdits.find((e) => e.uri === document?.uri.toString()));
    expect(edit.edits).toHaveLength(1);
    expect(edit.edits[0]?.range).toEqual(new host.Range(0, 0, 2, 0));
    expect(document?.getText()).toContain("Refactored by the Ren emulator");
    expect(host.messages.filter((m) => m.kind !== "info")).toEqual([]);
  });

  it("fixes with the editor's problems, and generates after the cursor's line", async () => {
    const document = host.workspace.textDocuments[0];
    if (document === undefined) {
      throw new Error("no document");
    }
    // The refactor's edit reached the server as didChange: its copy is the same as the editor's.
    await until("didChange", () => log().some((line) => line.includes("Sending notification 'textDocument/didChange'")));
    const problem = new host.Diagnostic(new host.Range(2, 4, 2, 10), "`items` may be None", host.DiagnosticSeverity.Warning);
    problem.source = "pyright";
    problem.code = "reportOptionalIterable";
    host.languages.getDiagnostics = () => [problem];
    host.window.activeTextEditor = { document, selection: new host.Selection(new host.Position(2, 6), new host.Position(2, 6)) };
    host.appliedEdits.length = 0;
    host.messages.length = 0;
    expect(((await run("ren.fixSelection")) as { session: string }).session).toMatch(/^[0-9a-f]{8}$/);
    await until("the fix", () => host.appliedEdits.find((e) => e.uri === document.uri.toString()));
    host.languages.getDiagnostics = () => [];

    const lines = document.lineCount;
    host.window.activeTextEditor = { document, selection: new host.Selection(new host.Position(0, 0), new host.Position(0, 0)) };
    host.window.showInputBox = () => Promise.resolve("a docstring for the module");
    host.appliedEdits.length = 0;
    expect(((await run("ren.generateCode")) as { session: string }).session).toMatch(/^[0-9a-f]{8}$/);
    const edit = await until("the generated code", () => host.appliedEdits.find((e) => e.uri === document.uri.toString()));
    expect(edit.edits[0]?.range).toEqual(new host.Range(1, 0, 1, 0)); // inserted after line 0
    expect(document.lineCount).toBeGreaterThan(lines);
    expect(host.messages.filter((m) => m.kind !== "info")).toEqual([]);
  });

  it("counts running sessions in the status bar while they run", async () => {
    // A long answer: the emulator streams filler up to maxTokens, a few words per event.
    host.setSetting("ren.maxTokens", "globalValue", 4000);
    await until("the new settings to be sent", () => log().some((l) => l.includes("workspace/didChangeConfiguration") && l.includes("4000")));
    host.progresses.length = 0;
    statusTexts.length = 0;
    host.window.showInputBox = () => Promise.resolve(undefined); // Escape: nothing is sent
    await run("ren.askQuestion");
    host.window.showInputBox = () => Promise.resolve("what does total() do? answer at length");
    await run("ren.askQuestion");
    await run("ren.askQuestion");
    await until("both sessions to end", () => host.progresses.length === 2 && host.progresses.every((p) => p.done));
    expect(statusTexts).toContain("$(loading~spin) Ren 2");
    expect(statusItem()?.text).toBe("$(sparkle) Ren");
  });

  it("passes a changed setting on at once, and a wrong one shows the server's message", async () => {
    host.setSetting("ren.model", "workspaceValue", "no-such-model");
    await until("the model to be sent", () => log().some((l) => l.includes("no-such-model")));
    host.messages.length = 0;
    await run("ren.explainSelection");
    const error = await until("the failure message", () => host.messages.find((m) => m.kind === "error"));
    expect(error.text).toContain("no-such-model");
    host.setSetting("ren.model", "workspaceValue", undefined); // back to the server's own
    await until("the reset to be sent", () => log().filter((l) => l.includes("Settings changed")).length >= 3);
  });

  it("restarts the server when a setting it got at start is removed (it would keep the old value)", async () => {
    const starts = () => log().filter((line) => line.includes("Starting ")).length;
    const before = starts();
    host.setSetting("ren.maxTokens", "globalValue", undefined);
    await until("the restart", () => starts() > before && statusItem()?.text === "$(sparkle) Ren");
    const options = [...log().join("\n").matchAll(/"initializationOptions": (\{[^}]*\})/g)].map((m) => m[1]);
    expect(JSON.parse(options.at(-1) ?? "null")).toEqual({});
  });

  it("restarts with a new key from SecretStorage, in the environment only", async () => {
    const starts = () => log().filter((line) => line.includes("Starting ")).length;
    const before = starts();
    host.window.showInputBox = () => Promise.resolve("wrong-key");
    await run("ren.setApiKey");
    await until("the restart", () => starts() > before && statusItem()?.text === "$(sparkle) Ren");
    host.messages.length = 0;
    await run("ren.explainSelection");
    const error = await until("the key to be refused", () => host.messages.find((m) => m.kind === "error"));
    expect(error.text.toLowerCase()).toContain("key");
    expect(log().join("\n")).not.toContain("wrong-key");
  });

  it("restarts a server that crashes, and says so (a warning, no error)", async () => {
    const server = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" })
      .split("\n")
      .find((line) => line.includes("-m ren_lsp") && !line.includes("emulator"));
    const pid = Number(server?.trim().split(/\s+/)[0]);
    expect(pid).toBeGreaterThan(0);
    host.messages.length = 0;
    statusTexts.length = 0;
    host.setSetting("ren.maxTokens", "globalValue", 777); // sent with didChangeConfiguration
    await until("the change to be sent", () => log().some((l) => l.includes("Settings changed") && l.includes("777")));
    process.kill(pid, "SIGKILL");
    await until("the restart", () => statusTexts.includes("$(error) Ren") && statusItem()?.text === "$(sparkle) Ren");
    expect(host.messages.filter((m) => m.kind === "error")).toEqual([]);
    expect(host.messages.filter((m) => m.kind === "warning").map((m) => m.text)).toEqual([
      "Ren: the server stopped unexpectedly and is being restarted. Ren: Show log has its output.",
    ]);
    expect(log().some((line) => line.includes("stopped unexpectedly; restarting"))).toBe(true);
    // The new process starts with the settings as they are now, not as they were at first.
    const options = [...log().join("\n").matchAll(/"initializationOptions": (\{[^}]*\})/g)].map((m) => m[1]);
    expect(JSON.parse(options.at(-1) ?? "null")).toEqual({ maxTokens: 777 });
  });

  it("offers the server it carries when none is found, with a pipx command for it", async () => {
    const wheel = path.join(work, "server", "ren_lsp-0.1.0-py3-none-any.whl");
    mkdirSync(path.dirname(wheel), { recursive: true });
    writeFileSync(wheel, "");
    host.messages.length = 0;
    host.setSetting("ren.server.python", "globalValue", path.join(work, "no-python"));
    const offer = await until("the offer", () => host.messages.find((m) => m.kind === "warning"));
    expect(offer.text).toContain("Install the server that comes with the extension");
    expect(log().some((line) => line.includes(`pipx install ${wheel}`))).toBe(true);
    expect(statusItem()?.text).toBe("$(error) Ren");
    rmSync(path.dirname(wheel), { recursive: true });
  });

  it("reports a server that exits at once, with its stderr in the log", async () => {
    const broken = path.join(work, "broken-ren-lsp");
    writeFileSync(broken, "#!/bin/sh\necho 'ren-lsp: broken on purpose' >&2\nexit 3\n", { mode: 0o755 });
    host.messages.length = 0;
    host.setSetting("ren.server.path", "globalValue", broken);
    const error = await until("the message", () => host.messages.find((m) => m.kind === "error"));
    await until("the stderr in the log", () => log().some((line) => line.includes("broken on purpose")));
    await until("the error state", () => statusItem()?.text === "$(error) Ren");
    await new Promise((resolve) => setTimeout(resolve, 500)); // any late message would be here by now
    // One message (vscode-languageclient's), not one per broken pipe and restart.
    expect(host.messages).toHaveLength(1);
    expect(error.text).toContain("Ren client");
  });
});
