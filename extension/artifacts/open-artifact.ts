import * as vscode from 'vscode';
import { viewerFor } from './artifact-files';
import { notebookType } from './notebook-serializer';

/** Opens a run's file in the editor that suits it: notebooks as notebooks, pictures as images, data as text. */
export async function openArtifact(file: string): Promise<void> {
  const uri = vscode.Uri.file(file);
  switch (viewerFor(file)) {
    case 'notebook':
      return void (await vscode.commands.executeCommand('vscode.openWith', uri, notebookType()));
    case 'image':
      return void (await vscode.commands.executeCommand('vscode.openWith', uri, 'imagePreview.previewEditor'));
    case 'text':
      return void (await vscode.window.showTextDocument(uri, { preview: true }));
    default:
      return void (await vscode.commands.executeCommand('vscode.open', uri));
  }
}
