/**
 * The running sessions and the status bar item that shows them.
 *
 * Sessions are counted from the server's progress: every session, whether a palette command,
 * a code action or another extension started it, runs under a progress token "ren-…" from
 * its `begin` (even while it waits for a free slot) to its `end`. The tracker is plain data;
 * the status bar only renders it.
 */
import * as vscode from "vscode";

export interface RunningSession {
  token: string;
  title: string;
  /** the latest progress message ("120 tokens · def parse(…") */
  message?: string;
}

export class SessionTracker {
  private readonly sessions = new Map<string, RunningSession>();
  private readonly listeners = new Set<() => void>();

  begin(token: string, title: string, message?: string): void {
    this.sessions.set(token, { token, title, message });
    this.changed();
  }

  report(token: string, message?: string): void {
    const session = this.sessions.get(token);
    if (session !== undefined && message !== undefined) {
      session.message = message;
      this.changed();
    }
  }

  /** The session that ended, if it was running. */
  end(token: string): RunningSession | undefined {
    const session = this.sessions.get(token);
    if (session !== undefined) {
      this.sessions.delete(token);
      this.changed();
    }
    return session;
  }

  /** The server stopped: nothing of it runs any more. */
  clear(): void {
    if (this.sessions.size > 0) {
      this.sessions.clear();
      this.changed();
    }
  }

  /** In the order they started. */
  running(): RunningSession[] {
    return [...this.sessions.values()];
  }

  get count(): number {
    return this.sessions.size;
  }

  onDidChange(listener: () => void): vscode.Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(): void {
    for (const listener of this.listeners) {
      listener();
    }
  }
}

export type ServerState = "starting" | "running" | "stopped" | "failed";

export interface StatusView {
  text: string;
  tooltip: string;
  command: string;
  error: boolean;
}

/** What the status bar shows for a server state and its running sessions. */
export function statusView(state: ServerState, sessions: readonly RunningSession[]): StatusView {
  switch (state) {
    case "starting":
      return { text: "$(loading~spin) Ren", tooltip: "Ren: starting the server…", command: "ren.showLog", error: false };
    case "failed":
      return {
        text: "$(error) Ren",
        tooltip: "Ren: the server is not running. Click to see why.",
        command: "ren.showLog",
        error: true,
      };
    case "stopped":
      return {
        text: "$(circle-slash) Ren",
        tooltip: "Ren: the server is stopped. Click to see the log; “Ren: Restart server” starts it.",
        command: "ren.showLog",
        error: false,
      };
    case "running":
      if (sessions.length === 0) {
        return { text: "$(sparkle) Ren", tooltip: "Ren: ready, no request running", command: "ren.showLog", error: false };
      }
      return {
        text: `$(loading~spin) Ren ${sessions.length}`,
        tooltip: [
          sessions.length === 1 ? "Ren: 1 request running" : `Ren: ${sessions.length} requests running`,
          ...sessions.map((s) => `• ${s.title}${s.message ? ` — ${s.message}` : ""}`),
          "Click to cancel one.",
        ].join("\n"),
        command: "ren.cancelRequest",
        error: false,
      };
  }
}

/** The status bar item: the server's state and the count of running sessions. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: ServerState = "starting";
  private readonly subscription: vscode.Disposable;

  constructor(private readonly tracker: SessionTracker) {
    this.item = vscode.window.createStatusBarItem("ren.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Ren";
    this.subscription = tracker.onDidChange(() => this.render());
    this.render();
    this.item.show();
  }

  setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    const view = statusView(this.state, this.tracker.running());
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    // Screen readers (and the real-VS-Code tests) read the state, not the icon's name.
    this.item.accessibilityInformation = { label: view.tooltip.split("\n").slice(0, 2).join(" ") };
    this.item.command = view.command;
    this.item.backgroundColor = view.error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
