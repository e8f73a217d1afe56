/**
 * Running the server: one vscode-languageclient `LanguageClient` at a time, started, stopped
 * and restarted in order (a restart while one is starting waits for it).
 *
 * Every start builds a new client: the server's environment carries the API key
 * (REN_API_KEY), which can only change by spawning a new process.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  WorkDoneProgressCancelNotification,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { bundledWheel, installedWheel, privateEnv } from "./bundled";
import { installBundled } from "./install";
import { completionEnabled, inlineCompletionMiddleware } from "./completion";
import { documentSelector } from "./languages";
import { CrashPolicy } from "./errors";
import { describe } from "./logging";
import { saveOutputDocuments, showDocument } from "./outputs";
import { notificationProgress, progressHandler } from "./progress";
import { toProtocol, type Request } from "./requests";
import type { ApiKeyStore } from "./secrets";
import { serverEnvironment } from "./secrets";
import { resolveServer, type MissingServer, type Probe, type ServerSettings } from "./server";
import {
  answerConfiguration,
  editorValues,
  removedSinceStart,
  sameValues,
  userOnlyEnvironment,
  type SettingSpec,
  type Values,
} from "./settings";
import type { SessionTracker, StatusBar } from "./status";

export interface RenClientDeps {
  log: vscode.LogOutputChannel;
  keys: ApiKeyStore;
  tracker: SessionTracker;
  status: StatusBar;
  /** the server's settings, from package.json */
  specs: readonly SettingSpec[];
  probe: Probe;
  /** the extension's folder (server/ holds the bundled wheel) */
  extensionPath: string;
  /** the extension's global storage folder (the private environment goes there) */
  storage: string;
}

export class RenClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  /** settings sent in initializationOptions, and the latest sent */
  private sentAtStart: Values = {};
  private lastSent: Values = {};
  /** the user-only settings handed to the server in its environment at start */
  private envAtStart: Values = {};
  private queue: Promise<unknown> = Promise.resolve();
  /** the last start failed and said why (the install command, or the error) */
  private startProblemShown = false;
  private readonly progress: ReturnType<typeof progressHandler>;

  constructor(private readonly deps: RenClientDeps) {
    this.progress = progressHandler({
      tracker: deps.tracker,
      show: notificationProgress,
      cancel: (token) => this.cancelProgress(token),
      ended: (title, message) => {
        if (message) {
          vscode.window.setStatusBarMessage(`Ren: ${title} — ${message}`, 8000);
        }
        void saveOutputDocuments();
      },
    });
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  restart(reason = "asked to"): Promise<void> {
    return this.enqueue(async () => {
      this.deps.log.info(`Restarting the server (${reason}).`);
      await this.doStop();
      await this.doStart();
    });
  }

  /** Sends a command, starting the server first if needed; undefined when that failed (shown). */
  async execute(request: Request): Promise<unknown> {
    await this.queue;
    if (!this.client?.isRunning()) {
      await this.start();
    }
    const client = this.client;
    if (!client?.isRunning()) {
      if (!this.startProblemShown) {
        void vscode.window.showErrorMessage("Ren: the server is not running.", "Show log", "Restart server").then((choice) => {
          if (choice === "Show log") {
            this.deps.log.show();
          } else if (choice === "Restart server") {
            void this.restart("asked to");
          }
        });
      }
      return undefined;
    }
    const arg = toProtocol(request, client.code2ProtocolConverter);
    try {
      const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
        command: request.command,
        arguments: [arg],
      });
      this.deps.log.info(`${request.command}: ${JSON.stringify(result)}`);
      return result;
    } catch (error) {
      this.deps.log.error(`${request.command} failed: ${describe(error)}`);
      void vscode.window.showErrorMessage(`Ren: ${describe(error)}`);
      return undefined;
    }
  }

  /** Cancels one session through its progress token, as the progress bar's button does. */
  cancelProgress(token: string): void {
    void this.client?.sendNotification(WorkDoneProgressCancelNotification.type, { token });
  }

  /** Settings changed: pass the user's values on, or restart where the server cannot follow. */
  async onDidChangeConfiguration(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration("ren")) {
      return;
    }
    if (event.affectsConfiguration("ren.server")) {
      await this.restart("ren.server changed");
      return;
    }
    const client = this.client;
    if (!client?.isRunning()) {
      return; // the next start reads them
    }
    const userOnly = this.userOnlyEnv();
    if (!sameValues(userOnly, this.envAtStart)) {
      // The server reads these from its environment only: a new process takes the change.
      const names = Object.keys({ ...userOnly, ...this.envAtStart }).filter(
        (name) => userOnly[name] !== this.envAtStart[name],
      );
      await this.restartFor(names.join(", ") + " changed", "the new value of " + names.join(", "));
      return;
    }
    const now = this.values();
    const removed = removedSinceStart(this.sentAtStart, now);
    if (removed.length > 0) {
      await this.restartForRemoved(removed);
      return;
    }
    if (!sameValues(now, this.lastSent)) {
      this.lastSent = now;
      this.deps.log.info(`Settings changed: ${JSON.stringify(now)}`);
      await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { ren: now } });
    }
  }

  dispose(): void {
    void this.stop();
  }

  // -- internals ------------------------------------------------------------------------------

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private values(): Values {
    return editorValues(vscode.workspace.getConfiguration("ren"), this.deps.specs);
  }

  private userOnlyEnv(): Record<string, string> {
    return userOnlyEnvironment(vscode.workspace.getConfiguration("ren"), this.deps.specs);
  }

  private async restartForRemoved(removed: string[]): Promise<void> {
    const names = removed.map((name) => `ren.${name}`).join(", ");
    await this.restartFor(`${names} no longer set`, `the default of ${names}`);
  }

  /** Restart for a settings change, at once when nothing runs, else when the user says so. */
  private async restartFor(reason: string, what: string): Promise<void> {
    const running = this.deps.tracker.count;
    if (running === 0) {
      await this.restart(reason);
      return;
    }
    const requests = running === 1 ? "1 running request" : `${running} running requests`;
    const choice = await vscode.window.showInformationMessage(
      `Ren: the server uses ${what} after a restart, which would stop ${requests}.`,
      "Restart now",
    );
    if (choice === "Restart now") {
      await this.restart(reason);
    }
  }

  private async doStart(): Promise<void> {
    if (this.client?.state === State.Stopped) {
      await this.doStop(); // it crashed and vscode-languageclient gave up on it: start afresh
    }
    if (this.client !== undefined) {
      if (this.client.state === State.Starting) {
        // vscode-languageclient is restarting it after a crash: wait for that.
        await this.client.start().catch((error: unknown) => this.deps.log.warn(`Restarting: ${describe(error)}`));
      }
      return;
    }
    this.startProblemShown = false;
    const { log, status } = this.deps;
    status.setState("starting");
    const config = vscode.workspace.getConfiguration("ren");
    const wheel = await bundledWheel(this.deps.extensionPath);
    const env = privateEnv(this.deps.storage, process.platform);
    let installed = await installedWheel(env);
    if (installed !== undefined && wheel !== undefined && installed !== path.basename(wheel)) {
      // The user chose the private environment before: bring it to the extension's version.
      log.info(`Updating the private environment from ${installed} to ${path.basename(wheel)}.`);
      installed = (await installBundled(this.deps, wheel)) ? path.basename(wheel) : undefined;
    }
    const settings: ServerSettings = {
      path: config.get<string>("server.path"),
      python: config.get<string>("server.python"),
      wheel,
      privateServer: installed === undefined ? undefined : env.executable,
    };
    const found = await resolveServer(settings, this.deps.probe);
    if (!found.ok) {
      status.setState("failed");
      log.error(`Cannot start the server: ${found.problem}. Install it with: ${found.install}`);
      this.startProblemShown = true;
      if (wheel !== undefined && !settings.path?.trim()) {
        void this.offerBundled(found, wheel);
      } else {
        void showMissingServer(found);
      }
      return;
    }
    const key = await this.deps.keys.get();
    // User-only settings (baseUrl, apiKeyCommand, …) go in the environment: the server
    // refuses them from initializationOptions and didChangeConfiguration.
    const userOnly = this.userOnlyEnv();
    this.envAtStart = userOnly;
    const withKey = serverEnvironment(key);
    const extraEnv = withKey || Object.keys(userOnly).length > 0 ? { ...userOnly, ...withKey } : undefined;
    const { command, args, source } = found.server;
    log.info(
      `Starting ${[command, ...args].join(" ")} (from ${source}); ` +
        `API key ${key ? "from VS Code's secret storage" : "not stored in VS Code"}.`,
    );
    const serverOptions: ServerOptions = {
      command,
      args,
      // For an executable, vscode-languageclient passes `env` to spawn as is: merge it.
      options: extraEnv ? { env: { ...process.env, ...extraEnv } } : {},
    };
    const crashes = new CrashPolicy(Date.now, () => {
      log.warn("The server stopped unexpectedly; restarting it.");
      void vscode.window
        .showWarningMessage(
          "Ren: the server stopped unexpectedly and is being restarted. Ren: Show log has its output.",
          "Show log",
          "Restart server",
        )
        .then((choice) => {
          if (choice === "Show log") {
            log.show();
          } else if (choice === "Restart server") {
            void this.restart("asked to");
          }
        });
    });
    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector(),
      errorHandler: crashes,
      // Logged, not shown: the client still shows one "couldn't create connection" message.
      initializationFailedHandler: (error) => {
        log.error(`The server failed to initialize: ${describe(error)}`);
        return false;
      },
      outputChannel: log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // Read at every start, also when vscode-languageclient restarts a crashed server.
      initializationOptions: () => {
        this.sentAtStart = this.values();
        this.lastSent = this.sentAtStart;
        return { ...this.sentAtStart };
      },
      middleware: {
        handleWorkDoneProgress: (token, value, next) => this.progress.handle(token, value, next),
        provideInlineCompletionItems: inlineCompletionMiddleware(completionEnabled),
        window: { showDocument: (params, token, next) => showDocument(params, token, next) },
        workspace: {
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            return Array.isArray(answers) ? answerConfiguration(params.items, answers, this.lastSent) : answers;
          },
        },
      },
    };
    const client = new LanguageClient("ren", "Ren", serverOptions, clientOptions);
    client.onDidChangeState(({ newState }) => {
      if (this.client !== client) {
        return; // an old client stopping: doStop reports that
      }
      if (newState === State.Running) {
        crashes.running();
        status.setState("running");
      } else if (newState === State.Starting) {
        status.setState("starting");
      } else {
        // It stopped by itself (a crash); vscode-languageclient may start it again.
        this.progress.closeAll();
        status.setState("failed");
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      log.error(`The server did not start: ${describe(error)}`);
      this.client = undefined;
      status.setState("failed");
      // vscode-languageclient has shown its own message ("couldn't create connection…").
      this.startProblemShown = true;
      void client.dispose().catch(() => undefined);
    }
  }

  /** No server found, but the .vsix carries one: offer to install it privately. */
  private async offerBundled(missing: MissingServer, wheel: string): Promise<void> {
    const choice = await vscode.window.showWarningMessage(
      `Ren: ${missing.problem}. Install the server that comes with the extension, in a private environment for VS Code?`,
      "Install",
      "Copy install command",
      "Open settings",
    );
    if (choice === "Install") {
      await this.enqueue(async () => {
        if (await installBundled(this.deps, wheel)) {
          await this.doStart();
        }
      });
    } else if (choice === "Copy install command") {
      await vscode.env.clipboard.writeText(missing.install);
    } else if (choice === "Open settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "ren.server");
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    if (client === undefined) {
      return;
    }
    this.client = undefined; // before stopping: the state change then reads as "stopped"
    if (client.state === State.Starting) {
      // vscode-languageclient is restarting it after a crash: a client disposed while it
      // starts is left half-started (its server runs on, its requests fail). Let it finish.
      await client.start().catch((error: unknown) => this.deps.log.warn(`Restarting: ${describe(error)}`));
    }
    try {
      await client.dispose(2000);
    } catch (error) {
      this.deps.log.warn(`Stopping the server: ${describe(error)}`);
    }
    this.progress.closeAll();
    this.deps.status.setState("stopped");
  }
}

/** The server is missing: say why, how to install it, and offer the settings. */
async function showMissingServer(missing: MissingServer): Promise<void> {
  const choice = await vscode.window.showErrorMessage(
    `Ren: ${missing.problem}. Install it with “${missing.install}”, or set ren.server.path or ren.server.python.`,
    "Open settings",
    "Copy install command",
  );
  if (choice === "Open settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "ren.server");
  } else if (choice === "Copy install command") {
    await vscode.env.clipboard.writeText(missing.install);
  }
}
