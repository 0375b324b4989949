/**
 * Before an edited pattern is saved: ask the service what the save would do
 * to jobs (`POST /api/patterns/{name}/check`, through the typed client) and,
 * when it re-runs or cancels work, let the user choose ("This re-runs N
 * jobs": Save and re-run, or Cancel). The service has no "save without
 * re-running": a changed pattern is a new rule, and a new rule handles the
 * existing files it matches (M10) — at once or after the next restart.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';

import type { IPatternSaveEffect } from '../core/api';
import type { WorkflowModel } from './models';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The dialog's title and text for an effect, or undefined when the save re-runs and cancels nothing. */
export function describeSaveEffect(
  name: string,
  effect: IPatternSaveEffect
): { title: string; body: string } | undefined {
  if (!effect.changes || (effect.jobs === 0 && effect.cancels === 0)) {
    return undefined;
  }
  const more = effect.truncated ? ' or more' : '';
  const title =
    effect.jobs > 0
      ? `This re-runs ${plural(effect.jobs, 'job')}${more}`
      : `This cancels ${plural(effect.cancels, 'job')}`;
  const parts: string[] = [`Saving changes what pattern "${name}" does.`];
  if (effect.jobs > 0) {
    parts.push(
      `It re-runs ${plural(effect.jobs, 'job')}${more} on ${plural(effect.files, 'existing file')}: ` +
        'their results (outputs and job records) are written again.'
    );
  }
  if (effect.cancels > 0) {
    parts.push(
      `${plural(effect.cancels, 'unfinished job')} of the current version ${effect.cancels === 1 ? 'is' : 'are'} cancelled.`
    );
  }
  parts.push('Work already done with exactly these settings is not repeated.');
  return { title, body: parts.join(' ') };
}

/**
 * True when the save may go ahead: it re-runs nothing, the user chose "Save
 * and re-run", or the service could not say (the save itself then reports
 * any problem).
 */
export async function confirmPatternSave(workflow: WorkflowModel, name: string, text: string): Promise<boolean> {
  let effect: IPatternSaveEffect | undefined;
  try {
    effect = (await workflow.checkPattern(name, text)).effect;
  } catch (err) {
    console.warn(`meow: cannot ask what saving pattern ${name} would re-run`, err);
    return true;
  }
  const message = effect && describeSaveEffect(name, effect);
  if (!message) {
    return true;
  }
  const answer = await showDialog({
    title: message.title,
    body: message.body,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Save and re-run' })]
  });
  return answer.button.accept;
}
