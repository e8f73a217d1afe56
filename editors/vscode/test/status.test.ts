/**
 * Running sessions: counted from the server's progress, shown in the status bar, each with a
 * cancellable notification.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { notificationProgress, progressHandler, type ProgressView } from "../src/progress";
import { SessionTracker, StatusBar, statusView } from "../src/status";
import { progresses, ProgressLocation, window, type FakeStatusBarItem } from "./vscode";

const begin = (title: string, message?: string) => ({ kind: "begin" as const, title, cancellable: true, message });
const report = (message: string) => ({ kind: "report" as const, message });
const end = (message?: string) => ({ kind: "end" as const, message });

function setup() {
  const tracker = new SessionTracker();
  const views: { title: string; cancellable: boolean; onCancel: () => void; reports: string[]; closed: boolean }[] = [];
  const show = (title: string, cancellable: boolean, onCancel: () => void): ProgressView => {
    const view = { title, cancellable, onCancel, reports: [] as string[], closed: false };
    views.push(view);
    return { report: (m) => view.reports.push(m), close: () => (view.closed = true) };
  };
  const cancel = vi.fn();
  const ended = vi.fn();
  const handler = progressHandler({ tracker, show, cancel, ended });
  const next = vi.fn();
  return { tracker, views, cancel, ended, handler, next };
}

describe("sessions from the server's progress", () => {
  it("counts a session from begin to end", () => {
    const { tracker, handler, next } = setup();
    handler.handle("ren-1", begin("Astra: Explain", "waiting for Astra…"), next);
    handler.handle("ren-2", begin("Astra: Refactor"), next);
    expect(tracker.count).toBe(2);
    handler.handle("ren-1", report("12 tokens · def total"), next);
    expect(tracker.running()[0]?.message).toBe("12 tokens · def total");
    handler.handle("ren-1", end("Done: 10 lines in a1b2.md"), next);
    expect(tracker.running().map((s) => s.title)).toEqual(["Astra: Refactor"]);
    handler.handle("ren-2", end("Cancelled"), next);
    expect(tracker.count).toBe(0);
  });

  it("shows each session as a cancellable notification and closes it at the end", () => {
    const { views, cancel, ended, handler, next } = setup();
    handler.handle("ren-1", begin("Astra: Explain", "waiting for Astra…"), next);
    handler.handle("ren-1", report("40 tokens"), next);
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({ title: "Astra: Explain", cancellable: true, reports: ["waiting for Astra…", "40 tokens"], closed: false });
    views[0]?.onCancel();
    expect(cancel).toHaveBeenCalledWith("ren-1");
    handler.handle("ren-1", end("Cancelled"), next);
    expect(views[0]?.closed).toBe(true);
    expect(ended).toHaveBeenCalledWith("Astra: Explain", "Cancelled");
  });

  it("passes on only `end`, so the client does not show a second progress but forgets the token", () => {
    const { handler, next } = setup();
    handler.handle("ren-1", begin("Astra: Explain"), next);
    handler.handle("ren-1", report("1 tokens"), next);
    expect(next).not.toHaveBeenCalled();
    handler.handle("ren-1", end(), next);
    expect(next).toHaveBeenCalledWith("ren-1", end());
  });

  it("leaves other progress (not ren-…) to the client", () => {
    const { tracker, views, handler, next } = setup();
    handler.handle("indexing", begin("Indexing"), next);
    handler.handle(7, begin("Other"), next);
    expect(next).toHaveBeenCalledTimes(2);
    expect(tracker.count).toBe(0);
    expect(views).toEqual([]);
  });

  it("forgets every session when the server stops", () => {
    const { tracker, views, handler, next } = setup();
    handler.handle("ren-1", begin("Astra: Explain"), next);
    handler.handle("ren-2", begin("Astra: Fix"), next);
    handler.closeAll();
    expect(tracker.count).toBe(0);
    expect(views.every((v) => v.closed)).toBe(true);
  });

  it("ignores an end it never saw begin (no negative counts)", () => {
    const { tracker, ended, handler, next } = setup();
    handler.handle("ren-9", end("Done"), next);
    expect(tracker.count).toBe(0);
    expect(ended).not.toHaveBeenCalled();
  });
});

describe("the notification", () => {
  beforeEach(() => {
    progresses.length = 0;
  });

  it("is a Notification progress whose Cancel reaches the server", async () => {
    const onCancel = vi.fn();
    const view = notificationProgress("Astra: Ask", true, onCancel);
    view.report("3 tokens");
    await Promise.resolve();
    const shown = progresses[0];
    expect(shown?.options).toEqual({ location: ProgressLocation.Notification, title: "Astra: Ask", cancellable: true });
    expect(shown?.reports).toEqual([{ message: "3 tokens" }]);
    shown?.cancel();
    expect(onCancel).toHaveBeenCalledOnce();
    view.close();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(shown?.done).toBe(true);
  });
});

describe("the status bar", () => {
  it("shows the count of running sessions, and lists them", () => {
    expect(statusView("running", [])).toMatchObject({ text: "$(sparkle) Ren", command: "ren.showLog" });
    const view = statusView("running", [
      { token: "ren-1", title: "Astra: Explain", message: "12 tokens" },
      { token: "ren-2", title: "Astra: Fix" },
    ]);
    expect(view.text).toBe("$(loading~spin) Ren 2");
    expect(view.tooltip).toContain("2 requests running");
    expect(view.tooltip).toContain("• Astra: Explain — 12 tokens");
    expect(view.command).toBe("ren.cancelRequest");
  });

  it("says when the server is not running", () => {
    expect(statusView("failed", [])).toMatchObject({ text: "$(error) Ren", command: "ren.showLog", error: true });
    expect(statusView("starting", []).text).toBe("$(loading~spin) Ren");
    expect(statusView("stopped", []).error).toBe(false);
  });

  it("follows the tracker", () => {
    const items: FakeStatusBarItem[] = [];
    const create = window.createStatusBarItem.bind(window);
    vi.spyOn(window, "createStatusBarItem").mockImplementation((...args) => {
      const item = create(...args);
      items.push(item);
      return item;
    });
    const tracker = new SessionTracker();
    const bar = new StatusBar(tracker);
    const item = items[0];
    expect(item?.visible).toBe(true);
    bar.setState("running");
    expect(item?.text).toBe("$(sparkle) Ren");
    tracker.begin("ren-1", "Astra: Explain");
    expect(item?.text).toBe("$(loading~spin) Ren 1");
    tracker.end("ren-1");
    expect(item?.text).toBe("$(sparkle) Ren");
    bar.setState("failed");
    expect(item?.backgroundColor?.id).toBe("statusBarItem.errorBackground");
    bar.dispose();
    tracker.begin("ren-2", "Astra: Fix"); // no longer listened to
    expect(item?.text).toBe("$(error) Ren");
  });
});
