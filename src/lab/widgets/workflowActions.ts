/**
 * What the Workflow panel's buttons do beyond the form: delete a pattern or
 * a recipe (after saying what it stops), export a pattern file, import
 * pattern files (checked by the core first, asking before replacing).
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import type { IPatternInfo } from '../../core/api';
import { parsePattern } from '../../core/pattern';
import { formatIssues } from '../../core/validation';
import { downloadBlob } from '../exportImage';
import { fileStem } from '../format';
import type { WorkflowModel } from '../models';

async function confirmDelete(title: string, body: string): Promise<boolean> {
  const answer = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
  });
  return answer.button.accept;
}

export async function deletePattern(workflow: WorkflowModel, name: string): Promise<void> {
  if (
    await confirmDelete(
      'Delete pattern',
      `Delete pattern "${name}"? Its rule is removed and its queued and running jobs are cancelled.`
    )
  ) {
    await workflow.deletePattern(name).catch(err => showErrorMessage('Cannot delete pattern', err));
  }
}

export async function deleteRecipe(workflow: WorkflowModel, name: string): Promise<void> {
  const users = workflow.patterns.filter(p => p.pattern?.recipe === name).map(p => p.name);
  const body =
    `Delete recipe "${name}"?` +
    (users.length ? ` Patterns ${users.join(', ')} lose their rule and their unfinished jobs are cancelled.` : '');
  if (await confirmDelete('Delete recipe', body)) {
    await workflow.deleteRecipe(name).catch(err => showErrorMessage('Cannot delete recipe', err));
  }
}

export function exportPattern(p: IPatternInfo): void {
  downloadBlob(new Blob([p.text], { type: 'application/x-yaml' }), `${p.name}.yaml`);
}

/** Import each file as the pattern named by its stem; a file the core refuses is reported, not saved. */
export async function importPatternFiles(workflow: WorkflowModel, files: readonly File[]): Promise<void> {
  for (const file of files) {
    const name = fileStem(file.name);
    const text = await file.text();
    const parsed = parsePattern(name, text);
    if (parsed.issues.length) {
      await showErrorMessage(`Cannot import ${file.name}`, formatIssues('pattern', name, parsed.issues));
      continue;
    }
    if (workflow.pattern(name)) {
      const answer = await showDialog({
        title: 'Replace pattern?',
        body: `A pattern named "${name}" exists. Replace it with ${file.name}?`,
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Replace' })]
      });
      if (!answer.button.accept) {
        continue;
      }
    }
    await workflow.savePattern(name, text).catch(err => showErrorMessage(`Cannot import ${file.name}`, err));
  }
}
