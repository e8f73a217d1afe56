/**
 * The languages Ren works on. The extension activates on these (package.json's
 * activationEvents, checked by a test) and the client syncs only their documents to the
 * server: never every file, so opening a log or a JSON file costs nothing.
 */
export const LANGUAGES: readonly string[] = [
  "python",
  "javascript",
  "typescript",
  "javascriptreact",
  "typescriptreact",
  "go",
  "rust",
  "java",
  "c",
  "cpp",
  "csharp",
  "ruby",
  "php",
  "lua",
  "shellscript",
];

/** Files on disk and unsaved buffers; not virtual documents (git diffs, output panes…). */
export const SCHEMES: readonly string[] = ["file", "untitled"];

export interface DocumentFilter {
  scheme: string;
  language: string;
}

export function documentSelector(): DocumentFilter[] {
  return LANGUAGES.flatMap((language) => SCHEMES.map((scheme) => ({ scheme, language })));
}

/** Whether the server has this document: it only gets those the selector matches. */
export function isSupported(document: { languageId: string; uri: { scheme: string } }): boolean {
  return LANGUAGES.includes(document.languageId) && SCHEMES.includes(document.uri.scheme);
}
