/**
 * The server's output documents (Explain, Ask, a refactor that could not be applied): Markdown
 * files in its state folder, `…/ren-lsp/sessions/<session>.md`, opened by `window/showDocument`.
 *
 * vscode-languageclient opens a shown document in the active editor group, on top of the code
 * the user asked about; the extension opens its own output documents beside it instead, and
 * keeps the focus where the user is typing. Any other document goes the client's way.
 */
import * as vscode from "vscode";
import type { HandlerResult, ShowDocumentParams, ShowDocumentRequest, ShowDocumentResult } from "vscode-languageclient";

const OUTPUT_DOCUMENT = /\/ren-lsp\/sessions\/[^/]+\.md$/;

export function isOutputDocument(params: Pick<ShowDocumentParams, "uri" | "external" | "selection">): boolean {
  return !params.external && params.selection === undefined && params.uri.startsWith("file:") && OUTPUT_DOCUMENT.test(params.uri);
}

/** The `window.showDocument` middleware. */
export function showDocument(
  params: ShowDocumentParams,
  token: vscode.CancellationToken,
  next: ShowDocumentRequest.HandlerSignature,
): HandlerResult<ShowDocumentResult, void> {
  return isOutputDocument(params) ? showBeside(params.uri) : next(params, token);
}

async function showBeside(target: string): Promise<ShowDocumentResult> {
  const uri = vscode.Uri.parse(target);
  if (vscode.window.visibleTextEditors.some((editor) => editor.document.uri.toString() === uri.toString())) {
    return { success: true };
  }
  try {
    await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: false });
    return { success: true };
  } catch {
    return { success: false };
  }
}

/**
 * A session ended: its output document holds the whole answer, on disk too (the server writes
 * it), but VS Code counts the streamed edits as unsaved changes and would ask to save it on
 * close. Save those whose text is the file's, so nothing is asked and nothing is lost.
 */
export async function saveOutputDocuments(): Promise<void> {
  for (const document of vscode.workspace.textDocuments) {
    if (!document.isDirty || !isOutputDocument({ uri: document.uri.toString() })) {
      continue;
    }
    try {
      const onDisk = new TextDecoder().decode(await vscode.workspace.fs.readFile(document.uri));
      if (onDisk === document.getText()) {
        await document.save();
      }
    } catch {
      // Not readable any more (removed): leave the buffer to the user.
    }
  }
}
