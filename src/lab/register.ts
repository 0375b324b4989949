/**
 * "Register notebook as recipe", without UI: save-or-not decision, the PUT,
 * and the 409 → confirm → overwrite dance. The command supplies the dialogs.
 */
import type { IRecipeInfo } from '../core/api';
import { validateName } from '../core/validation';
import { MeowApiError, MeowClient } from './client';
import { fileStem } from './format';

export interface IRegisterOptions {
  client: MeowClient;
  /** Contents path of the notebook. */
  path: string;
  /** The notebook JSON to register. */
  notebook: unknown;
  /** Recipe name (validated with the core). */
  name: string;
  /** Source recorded with the recipe (defaults to `path`). */
  source?: string;
  /** Asked when a recipe with that name exists; true replaces it. */
  confirmOverwrite: (name: string) => Promise<boolean>;
}

export interface IRegisterResult {
  status: 'registered' | 'replaced' | 'cancelled';
  recipe?: IRecipeInfo;
}

/** The recipe name proposed for a notebook: its file stem, made valid. */
export function defaultRecipeName(path: string): string {
  const stem = fileStem(path)
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/^\.+/, '');
  return stem || 'recipe';
}

/** Problems of a recipe name, as one message, or null when valid. */
export function recipeNameProblem(name: string): string | null {
  const issues = validateName('recipe', name);
  return issues.length ? issues.map(i => `The name ${i.message}; ${i.fix}.`).join(' ') : null;
}

export async function registerRecipe(options: IRegisterOptions): Promise<IRegisterResult> {
  const { client, name, notebook } = options;
  const source = options.source ?? options.path;
  try {
    const recipe = await client.saveRecipe(name, notebook, { source, overwrite: false });
    return { status: 'registered', recipe };
  } catch (err) {
    if (!(err instanceof MeowApiError) || err.status !== 409) {
      throw err;
    }
  }
  if (!(await options.confirmOverwrite(name))) {
    return { status: 'cancelled' };
  }
  const recipe = await client.saveRecipe(name, notebook, { source, overwrite: true });
  return { status: 'replaced', recipe };
}
