/**
 * The palette handlers, with VS Code's window and the server faked: the input boxes, Escape,
 * the messages, and what reaches the server.
 */
import { describe, expect, it, vi } from "vitest";
import type * as code from "vscode";
import { commandHandlers, type CommandDeps } from "../src/commands";
import { toProtocol, type Request } from "../src/requests";
import type { ApiKeyStore } from "../src/secrets";
import { SessionTracker } from "../src/status";
import { fakeDocument, fakeEditor, realConverter } from "./fakes";

const c2p = realConverter();
const URI = "file:///work/src/billing.py";
const SOURCE = ["def total(items):", "    s = 0", "    for i in items:", "        s += i.price", "    return s", "", "# TODO: parse the header", ""].join("\n");

const range = (sl: number, sc: number, el: number, ec: number) => ({
  start: { line: sl, character: sc },
  end: { line: el, character: ec },
});


function harness(editor?: code.TextEditor, inputs: (string | undefined)[] = []) {
  const calls: { command: string; arg: unknown }[] = [];
  const window = {
    activeTextEditor: editor,
    showInputBox: vi.fn((_options?: code.InputBoxOptions) => Promise.resolve(inputs.shift())),
    showErrorMessage: vi.fn((_message: string) => Promise.resolve(undefined)),
    showInformationMessage: vi.fn((_message: string) => Promise.resolve(undefined)),
    showQuickPick: vi.fn(),
  };
  const server = {
    execute: vi.fn((request: Request) => {
      calls.push({ command: request.command, arg: toProtocol(request, c2p) });
      return Promise.resolve(request.command === "ren.cancel" ? { cancelled: [] } : { session: "a1b2c3d4" });
    }),
    cancelProgress: vi.fn(),
    restart: vi.fn(() => Promise.resolve()),
  };
  const keys = { store: vi.fn(() => Promise.resolve()), clear: vi.fn(() => Promise.resolve()) };
  const tracker = new SessionTracker();
  const showLog = vi.fn();
  const deps = {
    window,
    diagnostics: () => [],
    server,
    tracker,
    keys: keys as unknown as ApiKeyStore,
    showLog,
  } as unknown as CommandDeps;
  return { handlers: commandHandlers(deps), calls, window, server, keys, tracker, showLog };
}

describe("the palette handlers", () => {
  it("Explain sends at once and returns the session", async () => {
    const h = harness(fakeEditor(fakeDocument(SOURCE), [0, 0, 4, 12]));
    expect(await h.handlers["ren.explainSelection"]?.()).toEqual({ session: "a1b2c3d4" });
    expect(h.calls).toEqual([{ command: "ren.explain", arg: { uri: URI, range: range(0, 0, 4, 12) } }]);
    expect(h.window.showInputBox).not.toHaveBeenCalled();
  });

  it("Refactor asks for the instruction; Escape sends nothing", async () => {
    const h = harness(fakeEditor(fakeDocument(SOURCE), [0, 0, 4, 12]), ["use sum()", undefined]);
    await h.handlers["ren.refactorSelection"]?.();
    await h.handlers["ren.refactorSelection"]?.();
    expect(h.calls).toEqual([{ command: "ren.refactor", arg: { uri: URI, range: range(0, 0, 4, 12), instruction: "use sum()" } }]);
  });

  it("Refactor without a selection says so before asking anything", async () => {
    const h = harness(fakeEditor(fakeDocument(SOURCE), [1, 0, 1, 0]));
    await h.handlers["ren.refactorSelection"]?.();
    expect(h.window.showInputBox).not.toHaveBeenCalled();
    expect(h.window.showErrorMessage).toHaveBeenCalledWith("Ren: Select the code to refactor first.");
    expect(h.calls).toEqual([]);
  });

  it("Generate prefills the instruction from a comment line", async () => {
    const h = harness(fakeEditor(fakeDocument(SOURCE), [6, 0, 6, 0]), ["parse the header into a dict"]);
    await h.handlers["ren.generateCode"]?.();
    expect(h.window.showInputBox.mock.calls[0]?.[0]?.value).toBe("parse the header");
    expect(h.calls).toEqual([
      { command: "ren.generate", arg: { uri: URI, position: { line: 6, character: 0 }, instruction: "parse the header into a dict" } },
    ]);
  });

  it("Ask works without any editor", async () => {
    const h = harness(undefined, ["what does billing do?"]);
    await h.handlers["ren.askQuestion"]?.();
    expect(h.calls).toEqual([{ command: "ren.ask", arg: { question: "what does billing do?" } }]);
  });

  it("Run agent asks for the task and the verify command, and Undo offers its session", async () => {
    const h = harness(undefined, ["make the tests pass", "pytest -q", "a1b2c3d4"]);
    await h.handlers["ren.runAgent"]?.();
    expect(h.calls[0]).toEqual({ command: "ren.agent", arg: { task: "make the tests pass", verify: "pytest -q" } });
    await h.handlers["ren.undoAgent"]?.();
    expect(h.window.showInputBox.mock.calls[2]?.[0]?.value).toBe("a1b2c3d4"); // the run's session
    expect(h.calls[1]).toEqual({ command: "ren.undo", arg: { session: "a1b2c3d4" } });
  });

  it("Run agent sends nothing when the task box is dismissed", async () => {
    const h = harness(undefined, [undefined]);
    await h.handlers["ren.runAgent"]?.();
    expect(h.calls).toEqual([]);
  });

  it("Cancel with nothing tracked asks the server to cancel everything", async () => {
    const h = harness();
    await h.handlers["ren.cancelRequest"]?.();
    expect(h.calls).toEqual([{ command: "ren.cancel", arg: {} }]);
    expect(h.window.showInformationMessage).toHaveBeenCalledWith("Ren: no request is running.");
  });

  it("Cancel offers the running sessions and cancels the one picked by its progress token", async () => {
    const h = harness();
    h.tracker.begin("ren-aaa", "Astra: Explain", "12 tokens");
    h.tracker.begin("ren-bbb", "Astra: Refactor");
    h.window.showQuickPick.mockImplementation((items: { label: string }[]) => Promise.resolve(items[1]));
    await h.handlers["ren.cancelRequest"]?.();
    const items = h.window.showQuickPick.mock.calls[0]?.[0] as { label: string; description?: string }[];
    expect(items.map((item) => item.label)).toEqual(["Astra: Explain", "Astra: Refactor", "$(close-all) Cancel all running requests"]);
    expect(items[0]?.description).toBe("12 tokens");
    expect(h.server.cancelProgress).toHaveBeenCalledWith("ren-bbb");
    expect(h.calls).toEqual([]);

    h.window.showQuickPick.mockImplementation((items: { label: string }[]) => Promise.resolve(items[2]));
    await h.handlers["ren.cancelRequest"]?.();
    expect(h.calls).toEqual([{ command: "ren.cancel", arg: {} }]);
  });

  it("Set API key asks with a password box and stores the key, not a setting", async () => {
    const h = harness(undefined, ["  ren-abc123  ", undefined]);
    await h.handlers["ren.setApiKey"]?.();
    const options = h.window.showInputBox.mock.calls[0]?.[0];
    expect(options?.password).toBe(true);
    expect(options?.validateInput?.("two words")).toBeTruthy();
    expect(options?.validateInput?.("ren-abc123")).toBeUndefined();
    expect(h.keys.store).toHaveBeenCalledWith("  ren-abc123  ");
    await h.handlers["ren.setApiKey"]?.(); // Escape
    expect(h.keys.store).toHaveBeenCalledTimes(1);
    expect(h.calls).toEqual([]);
  });

  it("Restart and Show log do what they say", async () => {
    const h = harness();
    await h.handlers["ren.restartServer"]?.();
    expect(h.server.restart).toHaveBeenCalledOnce();
    await h.handlers["ren.showLog"]?.();
    expect(h.showLog).toHaveBeenCalledOnce();
  });
});
