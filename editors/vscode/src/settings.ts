/**
 * The `ren.*` settings the server reads, and which of them to send.
 *
 * Only values the user set are sent (found with `inspect()`), never VS Code's defaults: the
 * server layers defaults < config.toml < REN_* environment < editor, so a default sent from
 * here would hide the user's config file and environment.
 */

/** Settings of the extension itself (not the server's): never sent to the server. */
export const EXTENSION_SETTINGS: readonly string[] = ["server.path", "server.python", "trace.server"];

/** A server setting: its name under `ren.` and its VS Code scope. */
export interface SettingSpec {
  name: string;
  scope: string;
}

export type Values = Record<string, unknown>;

/** The server settings contributed in package.json (`contributes.configuration`). */
export function serverSettings(properties: Record<string, { scope?: string }>): SettingSpec[] {
  return Object.entries(properties)
    .filter(([key]) => key.startsWith("ren."))
    .map(([key, spec]) => ({ name: key.slice("ren.".length), scope: spec.scope ?? "window" }))
    .filter(({ name }) => !EXTENSION_SETTINGS.includes(name));
}

/** What `WorkspaceConfiguration.inspect` returns, as far as it matters here. */
export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export interface Inspectable {
  inspect(name: string): Inspected | undefined;
}

/** Scopes VS Code reads only from user settings, never from a workspace's. */
const USER_ONLY_SCOPES = ["application", "machine"];

/**
 * The values the user set, by setting name (`{maxTokens: 8192}`).
 *
 * A workspace value wins over a user value, except for application- and machine-scoped
 * settings, which VS Code takes from user settings only: a repository's `.vscode/settings.json`
 * must not choose where the key goes (`baseUrl`) or what runs to get it (`apiKeyCommand`).
 * An explicit `null` is kept: it tells the server "not set here".
 */
export function userValues(config: Inspectable, specs: readonly SettingSpec[]): Values {
  const values: Values = {};
  for (const { name, scope } of specs) {
    const inspected = config.inspect(name);
    if (inspected === undefined) {
      continue;
    }
    const layers = USER_ONLY_SCOPES.includes(scope)
      ? [inspected.globalValue]
      : [inspected.workspaceFolderValue, inspected.workspaceValue, inspected.globalValue];
    const value = layers.find((layer) => layer !== undefined);
    if (value !== undefined) {
      values[name] = value;
    }
  }
  return values;
}

/** Whether a setting is read from user settings only (application or machine scope). */
export function isUserOnly(spec: SettingSpec): boolean {
  return USER_ONLY_SCOPES.includes(spec.scope);
}

/**
 * The values sent to the server in initializationOptions and didChangeConfiguration: the
 * user's values of every setting but the user-only ones. The server ignores those from an
 * editor (a client may forward a repository's settings): they go in its environment instead
 * (`userOnlyEnvironment`).
 */
export function editorValues(config: Inspectable, specs: readonly SettingSpec[]): Values {
  return userValues(
    config,
    specs.filter((spec) => !isUserOnly(spec)),
  );
}

/** `maxTokens` -> `REN_MAX_TOKENS`, `forge.apiUrl` -> `REN_FORGE_API_URL`, as the server names them. */
export function envName(name: string): string {
  return "REN_" + name.replace(/\./g, "_").replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * The user-only settings set in the user's settings, as the server's environment variables
 * (`{REN_BASE_URL: "…"}`): lists as JSON arrays, other values as text. The server reads its
 * environment as the user's own layer; a change needs a new process (the client restarts it).
 */
export function userOnlyEnvironment(config: Inspectable, specs: readonly SettingSpec[]): Record<string, string> {
  const env: Record<string, string> = {};
  const values = userValues(config, specs.filter(isUserOnly));
  for (const [name, value] of Object.entries(values)) {
    if (value === null || value === undefined || value === "") {
      continue; // not set here: the server's own environment and config file decide
    }
    env[envName(name)] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return env;
}

/**
 * Settings sent when the server started that are no longer set.
 *
 * The server keeps initializationOptions as a layer of its own, and a later
 * didChangeConfiguration only overrides it: a setting the user removed would keep its old
 * value until the server restarts.
 */
export function removedSinceStart(atStart: Values, now: Values): string[] {
  // A null sent at start set nothing (the server reads null as "not set here").
  return Object.keys(atStart).filter((name) => atStart[name] !== null && !(name in now));
}

export function sameValues(a: Values, b: Values): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(values: Values): [string, unknown][] {
  return Object.entries(values).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

/**
 * The answer to the server's workspace/configuration request: for the "ren" section, the
 * values the user set (the client's default answer would be the whole section, defaults and
 * the extension's own `server.*` settings included); other sections as the client answers them.
 */
export function answerConfiguration(
  items: readonly { section?: string | null }[],
  answers: readonly unknown[],
  values: Values,
): unknown[] {
  return items.map((item, index) => (item.section === "ren" ? { ...values } : answers[index]));
}
