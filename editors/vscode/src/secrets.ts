/**
 * The Ren API key, kept in VS Code's SecretStorage (the OS keychain), never in settings.
 *
 * It reaches the server only as REN_API_KEY in the environment of the process the extension
 * spawns: not in initializationOptions, not in workspace/configuration, not in a file. The
 * server reads REN_API_KEY as one of its layers; a key in its config file or apiKeyCommand
 * still works when none is stored here.
 */
import type * as vscode from "vscode";

export const SECRET_KEY = "ren.apiKey";
export const ENV_VAR = "REN_API_KEY";

export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(): Promise<string | undefined> {
    const key = await this.secrets.get(SECRET_KEY);
    return key?.trim() ? key.trim() : undefined;
  }

  store(key: string): Thenable<void> {
    return this.secrets.store(SECRET_KEY, key.trim());
  }

  clear(): Thenable<void> {
    return this.secrets.delete(SECRET_KEY);
  }

  /** Fires when the key changes, here or in another window. */
  onDidChange(listener: () => unknown): vscode.Disposable {
    return this.secrets.onDidChange((event) => {
      if (event.key === SECRET_KEY) {
        listener();
      }
    });
  }
}

/** The environment added to the server's (VS Code's own is inherited): the key, if stored. */
export function serverEnvironment(key: string | undefined): Record<string, string> | undefined {
  return key ? { [ENV_VAR]: key } : undefined;
}

/** Why a typed key cannot be right, or undefined when it looks like a key. */
export function checkKey(value: string): string | undefined {
  const key = value.trim();
  if (!key) {
    return "Paste the key from your Ren API console.";
  }
  if (/\s/.test(key)) {
    return "A key has no spaces or line breaks: paste only the key.";
  }
  return undefined;
}
