/**
 * Activation only: builds the parts and wires them to VS Code. Each part is in its own file:
 * server.ts finds the server, client.ts runs it (errors.ts: what happens when it crashes),
 * settings.ts chooses what settings it gets, secrets.ts keeps the API key, commands.ts holds
 * the palette commands and requests.ts builds their arguments, progress.ts and status.ts show
 * running sessions, logging.ts the "Ren" output channel, languages.ts what it works on.
 */
import * as vscode from "vscode";
import { RenClient } from "./client";
import { commandHandlers } from "./commands";
import { LANGUAGES } from "./languages";
import { createLog } from "./logging";
import { ApiKeyStore } from "./secrets";
import { systemProbe } from "./server";
import { serverSettings } from "./settings";
import { SessionTracker, StatusBar } from "./status";

interface Manifest {
  contributes: { configuration: { properties: Record<string, { scope?: string }> } };
}

// The one piece of module state: deactivate() must wait for the server to stop, and VS Code
// gives it nothing but this module.
let running: RenClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog();
  const tracker = new SessionTracker();
  const status = new StatusBar(tracker);
  const keys = new ApiKeyStore(context.secrets);
  const manifest = context.extension.packageJSON as Manifest;
  const ren = new RenClient({
    log,
    keys,
    tracker,
    status,
    specs: serverSettings(manifest.contributes.configuration.properties),
    probe: systemProbe(),
    extensionPath: context.extensionPath,
    storage: context.globalStorageUri.fsPath,
  });
  running = ren;

  const handlers = commandHandlers({
    window: vscode.window,
    diagnostics: (uri) => vscode.languages.getDiagnostics(uri),
    server: ren,
    tracker,
    keys,
    showLog: () => log.show(),
  });
  for (const [id, handler] of Object.entries(handlers)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  }
  context.subscriptions.push(
    log,
    status,
    keys.onDidChange(() => void ren.restart("the API key changed")),
    vscode.workspace.onDidChangeConfiguration((event) => void ren.onDidChangeConfiguration(event)),
  );
  // package.json's `when` clauses show the editor commands only where the server has the file.
  void vscode.commands.executeCommand("setContext", "ren.languages", LANGUAGES);
  void ren.start();
}

export async function deactivate(): Promise<void> {
  const ren = running;
  running = undefined;
  await ren?.stop();
}
