/**
 * package.json against the repository's schemas: the settings VS Code offers are the server's
 * (schemas/settings.schema.json), and every server command (schemas/commands.schema.json) has
 * a palette command. Fails when either side changes without the other.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configurationFromSchema, vscodeType } from "../scripts/gen-config.mjs";
import { PALETTE } from "../src/commands";
import { LANGUAGES } from "../src/languages";
import { EXTENSION_SETTINGS, serverSettings } from "../src/settings";

interface Property {
  type: string | string[];
  default?: unknown;
  scope?: string;
  description?: string;
  markdownDescription?: string;
  enum?: string[];
  enumDescriptions?: string[];
  [keyword: string]: unknown;
}

interface Manifest {
  name: string;
  publisher: string;
  main: string;
  engines: { vscode: string };
  activationEvents: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  contributes: {
    configuration: { title: string; properties: Record<string, Property> };
    commands: { command: string; title: string; category: string }[];
    menus: { commandPalette: { command: string; when: string }[] };
  };
}

const read = (path: string): unknown => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));
const manifest = read("../package.json") as Manifest;
const schema = read("../../../schemas/settings.schema.json") as {
  properties: Record<string, Property & { "x-scope": string }>;
};
const commandsSchema = read("../../../schemas/commands.schema.json") as { commands: Record<string, unknown> };
const properties = manifest.contributes.configuration.properties;

/** The deliberate differences, and why. */
const NOT_IN_VSCODE = ["apiKey"]; // the key lives in SecretStorage ("Ren: Set API key")
const ONLY_IN_VSCODE = ["ren.server.path", "ren.server.python", "ren.trace.server"]; // the extension's own

/** JSON Schema keywords that must mean the same on both sides. */
const KEYWORDS = ["type", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "enum", "items", "uniqueItems"];

describe("contributes.configuration and settings.schema.json", () => {
  it("offers every server setting but apiKey, and nothing else but the extension's own", () => {
    const fromSchema = Object.keys(schema.properties)
      .filter((name) => !NOT_IN_VSCODE.includes(name))
      .map((name) => `ren.${name}`);
    expect(Object.keys(properties).sort()).toEqual([...fromSchema, ...ONLY_IN_VSCODE].sort());
    expect(EXTENSION_SETTINGS.map((name) => `ren.${name}`).sort()).toEqual([...ONLY_IN_VSCODE].sort());
  });

  it("never offers the API key as a setting", () => {
    expect(Object.keys(properties).filter((key) => /apikey$/i.test(key))).toEqual([]);
  });

  it.each(Object.keys(schema.properties).filter((name) => !NOT_IN_VSCODE.includes(name)))(
    "ren.%s: same type, default, limits, scope and description as the schema",
    (name) => {
      const spec = schema.properties[name];
      const property = properties[`ren.${name}`];
      expect(spec).toBeDefined();
      expect(property).toBeDefined();
      if (spec === undefined || property === undefined) {
        return;
      }
      for (const keyword of KEYWORDS) {
        // A nullable setting is its plain type with no default in VS Code (vscodeType).
        const expected =
          keyword === "type" ? vscodeType(spec.type) : keyword === "default" && spec.default === null ? undefined : spec[keyword];
        expect(property[keyword], `${keyword} of ren.${name}`).toEqual(expected);
      }
      expect(property.scope).toBe(spec["x-scope"]);
      expect(property.description).toBe(spec.description);
      expect(property.markdownDescription).toContain(spec.description);
    },
  );

  it("gives every setting a scope VS Code knows, a description, and enum descriptions", () => {
    const scopes = ["application", "machine", "machine-overridable", "window", "resource", "language-overridable"];
    for (const [key, property] of Object.entries(properties)) {
      expect(scopes, `scope of ${key}`).toContain(property.scope);
      expect(property.description?.trim(), `description of ${key}`).toBeTruthy();
      if (property.enum !== undefined) {
        expect(property.enumDescriptions?.length, `enumDescriptions of ${key}`).toBe(property.enum.length);
      }
    }
  });

  it("keeps the server's executable out of workspace settings (machine scope)", () => {
    // A repository's .vscode/settings.json must not choose what runs on your machine.
    expect(properties["ren.server.path"]?.scope).toBe("machine");
    expect(properties["ren.server.python"]?.scope).toBe("machine");
  });

  it("is what `npm run gen-config` writes (no hand edits)", () => {
    expect(manifest.contributes.configuration).toEqual(configurationFromSchema(schema));
  });

  it("sends the server exactly the schema's settings (but apiKey)", () => {
    const names = serverSettings(properties).map((spec) => spec.name);
    expect(names.sort()).toEqual(Object.keys(schema.properties).filter((n) => !NOT_IN_VSCODE.includes(n)).sort());
  });
});

describe("commands and activation", () => {
  it("has a palette command for every server command", () => {
    const runs = PALETTE.map((command) => command.runs).filter(Boolean);
    expect(runs.sort()).toEqual(Object.keys(commandsSchema.commands).sort());
  });

  it("contributes exactly the palette commands, in category Ren", () => {
    expect(manifest.contributes.commands).toEqual(
      PALETTE.map(({ id, title }) => ({ command: id, title, category: "Ren" })),
    );
  });

  it("never contributes the server's own command ids (the language client registers those)", () => {
    const ids = manifest.contributes.commands.map((command) => command.command);
    for (const serverCommand of Object.keys(commandsSchema.commands)) {
      expect(ids).not.toContain(serverCommand);
    }
  });

  it("shows editor commands only in the languages the server gets", () => {
    const when = new Map(manifest.contributes.menus.commandPalette.map((entry) => [entry.command, entry.when]));
    for (const command of PALETTE) {
      if (command.needsEditor) {
        expect(when.get(command.id), command.id).toContain("editorLangId in ren.languages");
      } else {
        expect(when.has(command.id), command.id).toBe(false);
      }
    }
  });

  it("activates on the real languages only, not on every file", () => {
    expect(manifest.activationEvents).toEqual(LANGUAGES.map((language) => `onLanguage:${language}`));
    expect(manifest.activationEvents).not.toContain("*");
    expect(manifest.activationEvents).not.toContain("onStartupFinished");
  });

  it("needs the VS Code that vscode-languageclient needs, and bundles it", () => {
    const client = read("../node_modules/vscode-languageclient/package.json") as { engines: { vscode: string } };
    expect(manifest.engines.vscode).toBe(client.engines.vscode);
    const types = read("../node_modules/@types/vscode/package.json") as { version: string };
    expect(`^${types.version}`).toBe(manifest.engines.vscode);
    expect(manifest.main).toBe("./dist/extension.js");
  });
});
