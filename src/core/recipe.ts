/**
 * Recipes (R1, R2): a registered, frozen copy of a notebook, stored either as
 * `<name>.ipynb` or in the older mig_meow format `<name>.yaml` with keys
 * `recipe` (the notebook JSON) and `source` (the original path).
 */
import { readRecipeExecution } from './executor';
import { findAssignments } from './parameterise';
import { clipText, formatYamlProblem, parseYaml, stripBom } from './pyvalue';
import type { INotebook, IRecipe } from './types';
import { IValidationIssue, validateName } from './validation';

/** Cell problems listed one by one before the rest are only counted. */
const MAX_CELL_ISSUES = 10;

export interface IRecipeParseResult {
  recipe?: IRecipe;
  issues: IValidationIssue[];
}

/** Parse `<name>.ipynb` text. `digest` identifies the content (computed by the caller). */
export function parseRecipeNotebook(name: string, text: string, digest: string): IRecipeParseResult {
  const issues = validateName('recipe', name);
  let data: unknown;
  try {
    data = JSON.parse(stripBom(text));
  } catch (err) {
    issues.push({
      field: '(file)',
      message: `is not valid notebook JSON: ${clipText((err as Error).message.replace(/\s+/g, ' '), 200)}`,
      fix: 'save the notebook again from Jupyter, or register it again'
    });
    return { issues };
  }
  const notebook = validateNotebook(data, '', issues);
  const execution = readRecipeExecution(notebook?.metadata);
  issues.push(...execution.issues);
  if (issues.length || !notebook) {
    return { issues };
  }
  return { recipe: { name, notebook, digest, format: 'ipynb', ...execution.fields }, issues };
}

/** Parse the older `<name>.yaml` recipe format (`recipe`, `source`). */
export function parseRecipeYaml(name: string, text: string, digest: string): IRecipeParseResult {
  const issues = validateName('recipe', name);
  // The guarded reader: linear time, bounded nesting and aliases (YAML bombs).
  const { value, problems } = parseYaml(text, { plain: true });
  if (problems.length > 0) {
    for (const p of problems) {
      issues.push({
        field: '(file)',
        message: `is not valid YAML: ${formatYamlProblem(p)}`,
        fix: 'correct the YAML syntax at the position given'
      });
    }
    return { issues };
  }
  const data = value as any;
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    issues.push({
      field: '(file)',
      message: 'must be a mapping with keys "recipe" and "source"',
      fix: 'write `recipe:` (the notebook JSON) and optionally `source:` (its path)'
    });
    return { issues };
  }
  const unknown = Object.keys(data).filter(
    k => !['recipe', 'source', 'name', 'mount_user_dir', 'environments'].includes(k)
  );
  for (const key of unknown) {
    issues.push({
      field: clipText(key, 120),
      message: 'is not a recipe field',
      fix: 'remove it; allowed fields are "recipe" and "source"'
    });
  }
  if (data.source !== undefined && typeof data.source !== 'string') {
    issues.push({
      field: 'source',
      message: 'must be a string (the path the notebook was registered from)',
      fix: 'quote the path, or remove the field'
    });
  }
  let body = data.recipe;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch (err) {
      issues.push({
        field: 'recipe',
        message: `is a string but not notebook JSON: ${(err as Error).message}`,
        fix: 'put the notebook JSON (as a mapping or a JSON string) under "recipe"'
      });
      return { issues };
    }
  }
  const notebook = validateNotebook(body, 'recipe.', issues);
  const execution = readRecipeExecution(notebook?.metadata);
  issues.push(...execution.issues.map(i => ({ ...i, field: `recipe.${i.field}` })));
  if (issues.length || !notebook) {
    return { issues };
  }
  return {
    recipe: { name, notebook, digest, format: 'yaml', source: data.source, ...execution.fields },
    issues
  };
}

/**
 * Check the parts of nbformat 4 that meow relies on, and normalise missing
 * optional fields so later steps can rely on them.
 */
export function validateNotebook(data: unknown, prefix: string, issues: IValidationIssue[]): INotebook | undefined {
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    issues.push({
      field: prefix || '(file)',
      message: 'must be a notebook (a mapping with "cells")',
      fix: 'register a Jupyter notebook (.ipynb, nbformat 4)'
    });
    return undefined;
  }
  const nb = data as any;
  if (nb.nbformat !== undefined && nb.nbformat !== 4) {
    issues.push({
      field: `${prefix}nbformat`,
      message: `is ${clipText(JSON.stringify(nb.nbformat) ?? String(nb.nbformat), 40)}; only nbformat 4 notebooks can run`,
      fix: 'open and save the notebook in a current Jupyter to convert it to nbformat 4'
    });
  }
  if (!Array.isArray(nb.cells)) {
    issues.push({
      field: `${prefix}cells`,
      message: 'is missing or not a list',
      fix: 'register a Jupyter notebook (.ipynb, nbformat 4)'
    });
    return undefined;
  }
  const before = issues.length;
  let bad = 0;
  nb.cells.forEach((cell: any, i: number) => {
    const kinds = ['code', 'markdown', 'raw'];
    if (issues.length - before >= MAX_CELL_ISSUES) {
      bad++; // counted, not listed: a broken 100,000-cell file gets one line
      return;
    }
    if (!cell || typeof cell !== 'object' || !kinds.includes(cell.cell_type)) {
      issues.push({
        field: `${prefix}cells[${i}].cell_type`,
        message: 'must be "code", "markdown" or "raw"',
        fix: 'repair the cell in Jupyter and register the notebook again'
      });
      return;
    }
    const src = cell.source;
    const okSource =
      typeof src === 'string' || (Array.isArray(src) && src.every((s: unknown) => typeof s === 'string'));
    if (!okSource) {
      issues.push({
        field: `${prefix}cells[${i}].source`,
        message: 'must be a string or a list of strings',
        fix: 'repair the cell in Jupyter and register the notebook again'
      });
    }
  });
  if (bad > 0) {
    issues.push({
      field: `${prefix}cells`,
      message: `has problems in ${bad} more cells than those listed`,
      fix: 'repair the notebook in Jupyter and register it again'
    });
  }
  const kernelspec = nb.metadata?.kernelspec;
  if (
    kernelspec !== undefined &&
    (typeof kernelspec !== 'object' ||
      kernelspec === null ||
      typeof kernelspec.name !== 'string' ||
      kernelspec.name === '')
  ) {
    issues.push({
      field: `${prefix}metadata.kernelspec.name`,
      message: 'must be the name of a Jupyter kernel, e.g. "python3"',
      fix: 'choose a kernel for the notebook in Jupyter (Kernel → Change Kernel) and register it again'
    });
  }
  if (!nb.cells.some((c: any) => c && c.cell_type === 'code')) {
    issues.push({
      field: `${prefix}cells`,
      message: 'has no code cell, so the recipe would do nothing (R2)',
      fix: 'register a notebook with at least one code cell'
    });
  }
  if (issues.length) {
    return undefined;
  }
  return {
    cells: nb.cells.map((c: any) => ({ metadata: {}, ...c })),
    metadata: nb.metadata && typeof nb.metadata === 'object' ? nb.metadata : {},
    nbformat: 4,
    nbformat_minor: typeof nb.nbformat_minor === 'number' ? nb.nbformat_minor : 4
  };
}

const ASSIGNED = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?=(?!=)/gm;

/**
 * Names a recipe's code cells assign at top level, in order of appearance:
 * the variables a pattern's `input`, `parameters`, `outputs` and `sweep`
 * are expected to set (see `recipeVariableWarnings`).
 */
export function recipeVariables(notebook: INotebook): string[] {
  const names: string[] = [];
  for (const cell of notebook.cells) {
    if (cell.cell_type !== 'code') {
      continue;
    }
    const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
    const candidates = new Set([...src.matchAll(ASSIGNED)].map(m => m[1]));
    if (!candidates.size) {
      continue;
    }
    for (const edit of findAssignments(src, candidates)) {
      if (!names.includes(edit.name)) {
        names.push(edit.name);
      }
    }
  }
  return names;
}
