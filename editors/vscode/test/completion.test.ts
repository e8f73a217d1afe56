import { afterEach, describe, expect, it } from "vitest";
import type * as vscodeTypes from "vscode";
import { completionEnabled, inlineCompletionMiddleware, shouldAsk } from "../src/completion";
import { InlineCompletionTriggerKind, setSetting, settings } from "./vscode";

const AUTOMATIC = InlineCompletionTriggerKind.Automatic as unknown as vscodeTypes.InlineCompletionTriggerKind;
const INVOKE = InlineCompletionTriggerKind.Invoke as unknown as vscodeTypes.InlineCompletionTriggerKind;

function ask(trigger: vscodeTypes.InlineCompletionTriggerKind, enabled: boolean): string[] {
  const sent: string[] = [];
  const middleware = inlineCompletionMiddleware(() => enabled);
  const context = { triggerKind: trigger, selectedCompletionInfo: undefined } as vscodeTypes.InlineCompletionContext;
  const answer = middleware({} as vscodeTypes.TextDocument, {} as vscodeTypes.Position, context,
    {} as vscodeTypes.CancellationToken, () => {
      sent.push("textDocument/inlineCompletion");
      return [];
    });
  expect(answer === null).toBe(sent.length === 0);
  return sent;
}

describe("inline completion: ren.completion.enabled", () => {
  afterEach(() => settings.delete("ren.completion.enabled"));

  it("asks as you type only when the setting is on", () => {
    expect(ask(AUTOMATIC, false)).toEqual([]);
    expect(ask(AUTOMATIC, true)).toEqual(["textDocument/inlineCompletion"]);
  });

  it("always asks when the user triggers a suggestion (Alt+\\)", () => {
    expect(ask(INVOKE, false)).toEqual(["textDocument/inlineCompletion"]);
    expect(shouldAsk(INVOKE, true)).toBe(true);
  });

  it("reads the setting as VS Code resolves it, off by default", () => {
    expect(completionEnabled()).toBe(false);
    setSetting("ren.completion.enabled", "globalValue", true);
    expect(completionEnabled()).toBe(true);
    setSetting("ren.completion.enabled", "workspaceValue", false);
    expect(completionEnabled()).toBe(false);
  });
});
