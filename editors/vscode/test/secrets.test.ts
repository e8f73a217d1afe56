import { describe, expect, it, vi } from "vitest";
import type * as code from "vscode";
import { ApiKeyStore, checkKey, ENV_VAR, SECRET_KEY, serverEnvironment } from "../src/secrets";
import { EventEmitter } from "./vscode";

function secretStorage() {
  const values = new Map<string, string>();
  const changed = new EventEmitter<{ key: string }>();
  const storage = {
    get: (key: string) => Promise.resolve(values.get(key)),
    store: (key: string, value: string) => {
      values.set(key, value);
      changed.fire({ key });
      return Promise.resolve();
    },
    delete: (key: string) => {
      values.delete(key);
      changed.fire({ key });
      return Promise.resolve();
    },
    onDidChange: changed.event,
  };
  return { storage: storage as unknown as code.SecretStorage, values, changed };
}

describe("the API key", () => {
  it("is stored in SecretStorage under ren.apiKey, trimmed", async () => {
    const { storage, values } = secretStorage();
    const keys = new ApiKeyStore(storage);
    expect(await keys.get()).toBeUndefined();
    await keys.store("  ren-abc123\n");
    expect(values.get(SECRET_KEY)).toBe("ren-abc123");
    expect(await keys.get()).toBe("ren-abc123");
    await keys.clear();
    expect(await keys.get()).toBeUndefined();
  });

  it("tells of changes to its own entry only", async () => {
    const { storage, changed } = secretStorage();
    const keys = new ApiKeyStore(storage);
    const listener = vi.fn();
    keys.onDidChange(listener);
    changed.fire({ key: "someone.else" });
    await keys.store("ren-abc123");
    expect(listener).toHaveBeenCalledOnce();
  });

  it("reaches the server as REN_API_KEY in its environment, and only when stored", () => {
    expect(ENV_VAR).toBe("REN_API_KEY");
    expect(serverEnvironment("ren-abc123")).toEqual({ REN_API_KEY: "ren-abc123" });
    expect(serverEnvironment(undefined)).toBeUndefined(); // the server then uses its own sources
  });

  it("checks what is pasted", () => {
    expect(checkKey("")).toBeTruthy();
    expect(checkKey("ren-abc 123")).toBeTruthy();
    expect(checkKey(" ren-abc123 ")).toBeUndefined();
  });
});
