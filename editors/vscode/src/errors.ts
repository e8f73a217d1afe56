/**
 * What vscode-languageclient does when the connection to the server errs or closes.
 *
 * Its default handler shows a notification for every write error and restarts a server even
 * when it never started, which ends in a pile of messages for one broken install. Here a server
 * that never ran is not restarted (the extension says what happened, once), and one that ran
 * and then crashed is restarted, up to 4 times in 3 minutes, and the user is told each time.
 */
import {
  CloseAction,
  ErrorAction,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
} from "vscode-languageclient/node";

export const MAX_RESTARTS = 4;
export const RESTART_WINDOW_MS = 3 * 60 * 1000;

export class CrashPolicy implements ErrorHandler {
  private readonly restarts: number[] = [];
  private ran = false;

  /**
   * @param restarting called when a server that ran stops by itself and is started again, so
   *   the user is told (past the limit, vscode-languageclient shows the message below).
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly restarting: () => void = () => undefined,
  ) {}

  /** The server got to running: from now on a close is a crash worth a restart. */
  running(): void {
    this.ran = true;
  }

  error(_error: Error, _message: unknown, count: number | undefined): ErrorHandlerResult {
    // Logged by the client; a broken pipe is followed by the close, which decides. The stream's
    // own error event (an EPIPE as the server dies) comes without a count: shutting down on it
    // would stop the client before the close could restart the server.
    return { action: count === undefined || count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
  }

  closed(): CloseHandlerResult {
    if (!this.ran) {
      return { action: CloseAction.DoNotRestart, handled: true, message: "The server exited before it was ready." };
    }
    const now = this.now();
    this.restarts.push(now);
    while (this.restarts.length > 0 && now - (this.restarts[0] ?? now) > RESTART_WINDOW_MS) {
      this.restarts.shift();
    }
    if (this.restarts.length <= MAX_RESTARTS) {
      this.restarting();
      return { action: CloseAction.Restart, handled: true, message: "The server stopped unexpectedly; restarting it." };
    }
    return {
      action: CloseAction.DoNotRestart,
      handled: false,
      message:
        `Ren: the server stopped ${MAX_RESTARTS + 1} times in 3 minutes and is not restarted again. ` +
        "Ren: Show log has its output; Ren: Restart server starts it.",
    };
  }
}
