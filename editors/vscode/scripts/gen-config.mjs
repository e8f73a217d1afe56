#!/usr/bin/env node
// Writes package.json's contributes.configuration from schemas/settings.schema.json, the one
// description of the server's settings. `npm run gen-config` writes; `--check` only compares
// (exit 1 when package.json is stale). test/configuration.test.ts checks the result too.
//
// Deliberate differences from the schema (a nullable setting is its plain type, see
// vscodeType), and:
// - `apiKey` is not a VS Code setting: "Ren: Set API key" keeps the key in VS Code's secret
//   storage and hands it to the server in its environment (REN_API_KEY).
// - the extension's own settings (`ren.server.path`, `ren.server.python`, `ren.trace.server`)
//   choose and trace the server; the server never sees them.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const SCHEMA_PATH = fileURLToPath(new URL("../../../schemas/settings.schema.json", import.meta.url));
export const PACKAGE_PATH = fileURLToPath(new URL("../package.json", import.meta.url));

/** Schema settings that are deliberately not VS Code settings. */
export const EXCLUDED = ["apiKey"];

/** Keywords carried over from the schema as they are (VS Code validates them). */
const CARRIED = ["enumDescriptions", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "enum", "format", "items", "uniqueItems"];

/** What the schema has no keyword for, but VS Code's settings editor shows. */
const EXTRAS = {
  apiKeyCommand: {
    markdownSuffix: "In VS Code, **Ren: Set API key** keeps the key in VS Code's secret storage instead.",
  },
  baseUrl: { patternErrorMessage: "An http:// or https:// address, e.g. https://api.ren.ai" },
  logLevel: {
    enumDescriptions: [
      "Only errors.",
      "Errors and warnings.",
      "Errors, warnings and what the server does (the default).",
      "Everything the server logs: use it when reporting a problem.",
    ],
  },
};

/** The extension's own settings, after the server's. */
export const EXTENSION_PROPERTIES = {
  "ren.server.path": {
    type: "string",
    default: "",
    scope: "machine",
    description:
      "The ren-lsp executable, e.g. ~/.local/bin/ren-lsp. When empty, ren.server.python is used, else ren-lsp on PATH, else the server the extension carries (it offers to install it).",
    markdownDescription:
      "The `ren-lsp` executable, e.g. `~/.local/bin/ren-lsp` (`pipx install .` in a ren-lsp checkout puts it there). When empty, `#ren.server.python#` is used, else `ren-lsp` on `PATH`, else the server the extension carries (it offers to install it in a private environment).",
  },
  "ren.server.python": {
    type: "string",
    default: "",
    scope: "machine",
    description:
      "A Python interpreter that has the ren-lsp package; the server then runs as `python -m ren_lsp`. Used when ren.server.path is empty. Without the package, the extension installs the server it carries with this Python, in a private environment.",
    markdownDescription:
      "A Python interpreter that has the `ren-lsp` package (e.g. `~/venvs/ren/bin/python`); the server then runs as `python -m ren_lsp`. Used when `#ren.server.path#` is empty. Without the package, the extension installs the server it carries with this Python (3.11 or newer), in a private environment.",
  },
  "ren.trace.server": {
    type: "string",
    default: "off",
    enum: ["off", "messages", "verbose"],
    enumDescriptions: [
      "No trace.",
      "The name of each message between VS Code and the server.",
      "Each message with its content.",
    ],
    scope: "window",
    description: "Trace the messages between VS Code and the server in the Ren output channel.",
  },
};

/**
 * VS Code's Settings editor cannot edit a union type (it only offers "Edit in settings.json"),
 * so a nullable setting (`["string", "null"]`, default null: "not set") is its plain type with
 * no default there: left empty it is not set, and the extension sends only what the user set.
 */
export function vscodeType(type) {
  if (Array.isArray(type) && type.length === 2 && type.includes("null")) {
    return type.find((t) => t !== "null");
  }
  return type;
}

/** `maxTokens` -> `REN_MAX_TOKENS`, as the server names its environment variables. */
export function envName(name) {
  return "REN_" + name.replace(/\./g, "_").replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** contributes.configuration for the settings schema. */
export function configurationFromSchema(schema) {
  const properties = {};
  let order = 0;
  for (const [name, spec] of Object.entries(schema.properties)) {
    if (EXCLUDED.includes(name)) {
      continue;
    }
    if (!spec["x-scope"]) {
      throw new Error(`settings.schema.json: ${name} has no x-scope`);
    }
    if (!spec.description) {
      throw new Error(`settings.schema.json: ${name} has no description`);
    }
    const extras = EXTRAS[name] ?? {};
    const property = { type: vscodeType(spec.type) };
    if ("default" in spec && spec.default !== null) {
      property.default = spec.default;
    }
    for (const keyword of CARRIED) {
      if (keyword in spec) {
        property[keyword] = spec[keyword];
      }
    }
    if (extras.enumDescriptions) {
      property.enumDescriptions = extras.enumDescriptions;
    }
    if (extras.patternErrorMessage) {
      property.patternErrorMessage = extras.patternErrorMessage;
    }
    property.scope = spec["x-scope"];
    property.description = spec.description;
    const userOnly = spec["x-scope"] === "application";
    property.markdownDescription = [
      spec.description,
      extras.markdownSuffix,
      userOnly
        ? `In VS Code, set in your user settings (never a workspace's), it reaches the server as \`${envName(name)}\` in its environment, and a change restarts the server. When not set here, the server takes \`${envName(name)}\` from VS Code's environment, else \`${name}\` in its \`config.toml\`, else the default.`
        : `When not set here, the server takes it from \`${envName(name)}\`, else \`${name}\` in its \`config.toml\`, else the default.`,
    ]
      .filter(Boolean)
      .join(" ");
    property.order = order++;
    properties[`ren.${name}`] = property;
  }
  for (const [key, spec] of Object.entries(EXTENSION_PROPERTIES)) {
    properties[key] = { ...spec, order: order++ };
  }
  return { title: "Ren", properties };
}

function main(argv) {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, "utf8"));
  const text = readFileSync(PACKAGE_PATH, "utf8");
  const manifest = JSON.parse(text);
  manifest.contributes = { ...manifest.contributes, configuration: configurationFromSchema(schema) };
  const updated = JSON.stringify(manifest, null, 2) + "\n";
  if (argv.includes("--check")) {
    if (updated !== text) {
      console.error("package.json's contributes.configuration is stale: run `npm run gen-config`.");
      process.exit(1);
    }
    console.log("package.json's contributes.configuration matches settings.schema.json.");
    return;
  }
  if (updated !== text) {
    writeFileSync(PACKAGE_PATH, updated);
    console.log("package.json: contributes.configuration written from settings.schema.json.");
  } else {
    console.log("package.json: contributes.configuration already up to date.");
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2));
}
