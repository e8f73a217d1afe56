/**
 * Lets vscode-languageclient (loaded by Node, not by vitest) `require("vscode")` too: it gets
 * the same stand-in as the extension's own modules, so tests use the client's real
 * code2ProtocolConverter. Classes the stand-in lacks are empty ones (the client only extends
 * them when it loads); functions the stand-in lacks in a namespace return a disposable.
 */
import Module from "node:module";
import * as vscode from "./vscode";

const ID = "\0vscode-stand-in";
const stubs = new Map<string, unknown>();
const NAMESPACES = new Set(["window", "workspace", "languages", "commands", "env", "extensions", "tasks", "debug", "notebooks", "authentication", "lm", "chat"]);
const namespaces = new Map<string, unknown>();

/** A namespace whose unknown functions (registerXProvider, onDidX events…) return disposables. */
function namespace(target: object): unknown {
  return new Proxy(target, {
    get(object, name) {
      if (name in object) {
        return (object as Record<string | symbol, unknown>)[name];
      }
      return typeof name === "string" ? () => new vscode.Disposable(() => undefined) : undefined;
    },
  });
}

export const vscodeModule: unknown = new Proxy(vscode, {
  get(target, name) {
    if (name === "__esModule") {
      return true; // so the client's compiled `__importStar(require("vscode"))` keeps the proxy
    }
    if (typeof name === "string" && NAMESPACES.has(name)) {
      if (!namespaces.has(name)) {
        namespaces.set(name, namespace(((target as unknown as Record<string, object | undefined>)[name]) ?? {}));
      }
      return namespaces.get(name);
    }
    if (typeof name !== "string" || name in target) {
      return (target as Record<string | symbol, unknown>)[name];
    }
    if (/^[A-Z]/.test(name)) {
      if (!stubs.has(name)) {
        stubs.set(name, class {});
      }
      return stubs.get(name);
    }
    return undefined;
  },
});

const loader = Module as unknown as {
  _resolveFilename(request: string, ...rest: unknown[]): string;
  _cache: Record<string, unknown>;
};
const resolve = loader._resolveFilename.bind(loader);
loader._resolveFilename = (request: string, ...rest: unknown[]): string =>
  request === "vscode" ? ID : resolve(request, ...rest);
loader._cache[ID] = { id: ID, filename: ID, loaded: true, exports: vscodeModule, children: [], paths: [] };
