/**
 * Inline completion: vscode-languageclient shows ren-lsp's `textDocument/inlineCompletion`
 * answers as ghost text by itself. What this adds is the `ren.completion.enabled` switch:
 * suggestions as you type (automatic triggers) are asked for only when it is on, while
 * "Trigger Inline Suggestion" (Alt+\) always asks. The server applies the same rule, so a
 * request never costs a model call when the setting is off; this saves the round trip too.
 */
import * as vscode from "vscode";

/** Whether a request with this trigger should reach the server. */
export function shouldAsk(trigger: vscode.InlineCompletionTriggerKind, enabled: boolean): boolean {
  return enabled || trigger === vscode.InlineCompletionTriggerKind.Invoke;
}

type Provide = (
  document: vscode.TextDocument,
  position: vscode.Position,
  context: vscode.InlineCompletionContext,
  token: vscode.CancellationToken,
) => vscode.ProviderResult<vscode.InlineCompletionItem[] | vscode.InlineCompletionList>;

/** The middleware of `provideInlineCompletionItems`; `enabled()` reads the setting each time. */
export function inlineCompletionMiddleware(enabled: () => boolean) {
  return (
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
    next: Provide,
  ) => (shouldAsk(context.triggerKind, enabled()) ? next(document, position, context, token) : null);
}

/** `ren.completion.enabled`, as VS Code resolves it for a document. */
export function completionEnabled(): boolean {
  return vscode.workspace.getConfiguration("ren").get<boolean>("completion.enabled", false);
}
