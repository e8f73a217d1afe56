#!/usr/bin/env node
// Bundles the extension and its runtime dependency (vscode-languageclient) into
// dist/extension.js, so the .vsix carries one file and no node_modules. `--production`
// minifies and drops the source map (what `vsce package` runs, via vscode:prepublish).
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";

/** The esbuild options; the smoke test bundles with them too. */
export function buildOptions({ production = false, outfile = "dist/extension.js" } = {}) {
  return {
    absWorkingDir: fileURLToPath(new URL("..", import.meta.url)),
    entryPoints: ["src/extension.ts"],
    bundle: true,
    outfile,
    format: "cjs",
    platform: "node",
    // VS Code 1.91, the oldest engines.vscode allows, runs extensions on Node 20.
    target: "node20",
    external: ["vscode"],
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    logLevel: "warning",
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const production = process.argv.includes("--production");
  await esbuild.build(buildOptions({ production }));
  await esbuild.stop();
  console.log(`dist/extension.js bundled${production ? " (production)" : ""}.`);
}
