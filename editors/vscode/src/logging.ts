/**
 * The "Ren" output channel: the extension's own log, the language client's, and the server's
 * stderr and window/logMessage. "Ren: Show log" opens it.
 */
import * as vscode from "vscode";

export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel("Ren", { log: true });
}

/** An error's message without a stack, for the user. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return typeof error === "string" ? error : JSON.stringify(error);
}
