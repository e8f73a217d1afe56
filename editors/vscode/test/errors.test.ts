import { describe, expect, it } from "vitest";
import { CloseAction, ErrorAction } from "vscode-languageclient/node";
import { CrashPolicy, MAX_RESTARTS } from "../src/errors";

describe("when the server's connection closes", () => {
  it("does not restart a server that never ran, and leaves the message to the extension", () => {
    const policy = new CrashPolicy();
    expect(policy.closed()).toMatchObject({ action: CloseAction.DoNotRestart, handled: true });
  });

  it("restarts a crashed server quietly, up to 4 times in 3 minutes, then says so", () => {
    let now = 0;
    const policy = new CrashPolicy(() => now);
    policy.running();
    for (let i = 0; i < MAX_RESTARTS; i++) {
      now += 1000;
      expect(policy.closed()).toMatchObject({ action: CloseAction.Restart, handled: true });
    }
    now += 1000;
    const last = policy.closed();
    expect(last).toMatchObject({ action: CloseAction.DoNotRestart, handled: false });
    expect(last.message).toContain("Ren: Restart server");
  });

  it("forgets crashes older than 3 minutes", () => {
    let now = 0;
    const policy = new CrashPolicy(() => now);
    policy.running();
    for (let i = 0; i < 10; i++) {
      now += 60_000;
      expect(policy.closed().action).toBe(CloseAction.Restart);
    }
  });

  it("keeps going through a few write errors without a notification each", () => {
    const policy = new CrashPolicy();
    expect(policy.error(new Error("EPIPE"), undefined, 1)).toEqual({ action: ErrorAction.Continue, handled: true });
    expect(policy.error(new Error("EPIPE"), undefined, 4)).toEqual({ action: ErrorAction.Shutdown, handled: true });
  });

  it("leaves a stream's own error (no count: the server died mid-write) to the close, which restarts", () => {
    const policy = new CrashPolicy();
    policy.running();
    expect(policy.error(new Error("write EPIPE"), undefined, undefined)).toEqual({
      action: ErrorAction.Continue,
      handled: true,
    });
    expect(policy.closed().action).toBe(CloseAction.Restart);
  });
});
