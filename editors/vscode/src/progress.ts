/**
 * The server's progress ($/progress on tokens "ren-…") as VS Code notifications with a
 * Cancel button, and the session count of the status bar.
 *
 * vscode-languageclient shows work-done progress in the status bar only (ProgressLocation
 * .Window, where there is no Cancel), so the extension takes its own sessions' progress in the
 * `handleWorkDoneProgress` middleware: `begin` and `report` go to a notification; `end` closes
 * it and is passed on, so the client's own bookkeeping for the token ends too.
 */
import * as vscode from "vscode";
import type { ProgressToken, WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from "vscode-languageclient";
import type { SessionTracker } from "./status";

export const TOKEN_PREFIX = "ren-";

/** One visible progress: updated by reports, closed at the end. */
export interface ProgressView {
  report(message: string): void;
  close(): void;
}

export type ShowProgress = (title: string, cancellable: boolean, onCancel: () => void) => ProgressView;

type Value = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export interface ProgressDeps {
  tracker: SessionTracker;
  show: ShowProgress;
  /** Asks the server to cancel the session of this token (window/workDoneProgress/cancel). */
  cancel(token: string): void;
  /** A session ended, with the server's last word ("Done: 12 lines in …", "Cancelled"). */
  ended(title: string, message: string | undefined): void;
}

/** The `handleWorkDoneProgress` middleware, and `closeAll` for when the server stops. */
export function progressHandler(deps: ProgressDeps): {
  handle(token: ProgressToken, value: Value, next: (token: ProgressToken, value: Value) => void): void;
  closeAll(): void;
} {
  const views = new Map<string, ProgressView>();
  return {
    handle(token, value, next) {
      if (typeof token !== "string" || !token.startsWith(TOKEN_PREFIX)) {
        next(token, value);
        return;
      }
      switch (value.kind) {
        case "begin": {
          deps.tracker.begin(token, value.title, value.message);
          views.get(token)?.close();
          const view = deps.show(value.title, value.cancellable ?? false, () => deps.cancel(token));
          views.set(token, view);
          if (value.message) {
            view.report(value.message);
          }
          return; // not passed on: the client would show it a second time, in the status bar
        }
        case "report":
          deps.tracker.report(token, value.message);
          if (value.message) {
            views.get(token)?.report(value.message);
          }
          return;
        case "end": {
          views.get(token)?.close();
          views.delete(token);
          const session = deps.tracker.end(token);
          if (session !== undefined) {
            deps.ended(session.title, value.message);
          }
          next(token, value);
          return;
        }
      }
    },
    closeAll() {
      for (const view of views.values()) {
        view.close();
      }
      views.clear();
      deps.tracker.clear();
    },
  };
}

/** A notification progress with a Cancel button (when the server allows cancelling). */
export const notificationProgress: ShowProgress = (title, cancellable, onCancel) => {
  let report: ((message: string) => void) | undefined;
  let pending: string | undefined;
  let close: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable },
    (progress, token) => {
      token.onCancellationRequested(onCancel);
      report = (message) => progress.report({ message });
      if (pending !== undefined) {
        report(pending);
      }
      return closed;
    },
  );
  return {
    report(message) {
      if (report === undefined) {
        pending = message; // withProgress has not called back yet
      } else {
        report(message);
      }
    },
    close: () => close(),
  };
};
