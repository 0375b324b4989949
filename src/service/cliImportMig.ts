/**
 * `meow import-mig PATH… [--into WORKGROUP] [--force] [--dry-run]`: set up a
 * workgroup from what mig_meow wrote — a `meow_directory` (`patterns/<name>`
 * and `recipes/<name>`, files without an extension, written by
 * write_dir_pattern / write_dir_recipe) or single exported pattern and recipe
 * files. Patterns stay in the thesis format (they load unchanged); recipes
 * are taken out of mig_meow's YAML wrapper (`recipe:` the notebook, `source:`,
 * `environments:`) into `.meow/recipes/<name>.ipynb`. Every change made, and
 * every pattern meow would still refuse, is reported with the fix. Existing
 * files are never replaced without --force.
 */
import { Command } from 'commander';
import { promises as fs } from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { parsePattern, THESIS_KEYS } from '../core/pattern';
import { recipeVariableWarnings } from '../core/patternWarnings';
import { parseRecipeNotebook, recipeVariables } from '../core/recipe';
import { sweepCount } from '../core/sweep';
import type { INotebook, IPattern } from '../core/types';

export interface IImportMigOptions {
  /** Workgroup to set up (default: the current folder). */
  into?: string;
  stateDir?: string;
  /** Replace existing files that differ. */
  force?: boolean;
  /** Convert and report, write nothing. */
  dryRun?: boolean;
}

/** One line of the report: what happened to one source file. */
export interface IImportNote {
  /** The file imported (as given, or relative to the meow_directory). */
  source: string;
  /** The workgroup-relative file written (or that would be). */
  target?: string;
  /** `ok`: written unchanged; `changed`: written with the changes listed; `refused`, `skipped`: not written. */
  outcome: 'ok' | 'changed' | 'refused' | 'skipped' | 'unchanged';
  /** What was changed, or why it was refused, each with its fix. */
  details: string[];
}

export interface IImportMigResult {
  /** Workgroup-relative path → text, everything the import makes. */
  files: Record<string, string>;
  notes: IImportNote[];
}

/** A mig_meow name: the file name up to its first '.' (fileio.read_pattern / read_recipe). */
function migName(file: string): string {
  const base = path.basename(file);
  const dot = base.indexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** The files to import: a meow_directory's patterns/ and recipes/, a folder of files, or files. */
async function sources(given: string): Promise<{ file: string; shown: string; kind?: 'pattern' | 'recipe' }[]> {
  let stat;
  try {
    stat = await fs.stat(given);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `${given} does not exist; give a mig_meow meow_directory (with patterns/ and recipes/) or exported pattern/recipe files`
        : `cannot read ${given}: ${(err as Error).message}`
    );
  }
  if (!stat.isDirectory()) {
    return [{ file: given, shown: given }];
  }
  const out: { file: string; shown: string; kind?: 'pattern' | 'recipe' }[] = [];
  const sub = { patterns: 'pattern', recipes: 'recipe' } as const;
  let structured = false;
  for (const [dir, kind] of Object.entries(sub)) {
    const abs = path.join(given, dir);
    const names = await fs.readdir(abs).catch(() => undefined);
    if (names) {
      structured = true;
      for (const name of names.sort()) {
        if ((await fs.stat(path.join(abs, name))).isFile()) {
          out.push({ file: path.join(abs, name), shown: `${dir}/${name}`, kind });
        }
      }
    }
  }
  if (!structured) {
    for (const name of (await fs.readdir(given)).sort()) {
      if ((await fs.stat(path.join(given, name))).isFile()) {
        out.push({ file: path.join(given, name), shown: name });
      }
    }
  }
  if (out.length === 0) {
    throw new Error(`${given} holds no pattern or recipe files (a meow_directory has patterns/ and recipes/)`);
  }
  return out;
}

/** What a file is, by its content: a notebook, a mig_meow recipe YAML, or a thesis pattern. */
function classify(text: string): { kind: 'notebook'; nb: unknown } | { kind: 'yaml'; doc: YAML.Document } | undefined {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      return { kind: 'notebook', nb: JSON.parse(text) };
    } catch {
      // not JSON: perhaps a YAML flow mapping
    }
  }
  const doc = YAML.parseDocument(text);
  return doc.errors.length === 0 && YAML.isMap(doc.contents) ? { kind: 'yaml', doc } : undefined;
}

/** mig_meow's sweep: adds the increment up while ≤ stop (meow.py get_parameter_sweep_values). */
function migSweepCount(r: { start: number; stop: number; step: number }): number {
  let n = 0;
  for (let v = r.start; r.step > 0 ? v <= r.stop : v >= r.stop; v += r.step) {
    if (++n > 1e6) {
      break;
    }
  }
  return n;
}

/** Notes on how a valid pattern runs differently from mig_meow (nothing to change, good to know). */
function behaviourNotes(p: IPattern): string[] {
  const notes: string[] = [];
  const ranges = Object.entries(p.sweep);
  for (const [name, r] of ranges) {
    const ours = sweepCount(r);
    const theirs = migSweepCount(r);
    if (ours !== undefined && ours !== theirs && r.start !== r.stop) {
      notes.push(
        `parameterize_over.${name}: meow makes ${ours} value(s), stop included exactly; mig_meow's float ` +
          `additions made ${theirs} (README: Coming from mig_meow or meow_base)`
      );
    }
  }
  if (ranges.length > 1) {
    const each = ranges.map(([, r]) => sweepCount(r) ?? 0);
    notes.push(
      `parameterize_over: meow runs every combination (${each.reduce((a, b) => a * b, 1)} jobs per file); ` +
        `mig_meow ran each variable's values in turn (${each.reduce((a, b) => a + b, 0)})`
    );
  }
  return notes;
}

/**
 * Make a mig_meow pattern loadable: keys meow does not read are dropped, a
 * name both in variables and output (or the sweep) keeps the value mig_meow
 * used, several recipes or input paths become one pattern each (as
 * mig_meow made one rule each). Returns the documents to write by name.
 */
function fixPattern(name: string, doc: YAML.Document, changes: string[]): [string, YAML.Document][] {
  const obj = doc.toJS() as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(THESIS_KEYS as readonly string[]).includes(key)) {
      doc.delete(key);
      changes.push(
        key === 'name'
          ? `removed "name: ${String(obj.name)}" (the file name is the pattern name, as in mig_meow)`
          : `removed "${key}", which mig_meow kept for itself and meow does not read`
      );
    }
  }
  const keysOf = (k: string) => (obj[k] && typeof obj[k] === 'object' ? Object.keys(obj[k] as object) : []);
  // mig_meow set variables, then outputs over them, then each sweep value.
  for (const v of keysOf('variables')) {
    const over = keysOf('parameterize_over').includes(v)
      ? 'parameterize_over'
      : keysOf('output').includes(v)
        ? 'output'
        : '';
    if (over) {
      doc.deleteIn(['variables', v]);
      changes.push(`removed variables.${v}: ${over}.${v} set it too, and mig_meow used that value`);
    }
  }
  for (const v of keysOf('output')) {
    if (keysOf('parameterize_over').includes(v)) {
      doc.deleteIn(['output', v]);
      changes.push(`removed output.${v}: parameterize_over.${v} set it too, and mig_meow used the sweep's values`);
    }
  }
  const list = (k: string) => (Array.isArray(obj[k]) ? (obj[k] as unknown[]) : undefined);
  const recipes = list('recipes');
  const paths = list('input_paths');
  if ((recipes?.length ?? 0) <= 1 && (paths?.length ?? 0) <= 1) {
    return [[name, doc]];
  }
  const out: [string, YAML.Document][] = [];
  for (const p of paths?.length ? paths : [undefined]) {
    for (const r of recipes?.length ? recipes : [undefined]) {
      const copy = doc.clone();
      if (p !== undefined) {
        copy.set('input_paths', [p]);
      }
      if (r !== undefined) {
        copy.set('recipes', [r]);
      }
      out.push([`${name}_${out.length + 1}`, copy]);
    }
  }
  changes.push(
    `split into ${out.map(([n]) => n).join(', ')}: one per input path and recipe ` +
      `(meow patterns have one of each; mig_meow made one rule for each)`
  );
  return out;
}

interface IConverted {
  target: string;
  text: string;
  outcome: 'ok' | 'changed' | 'refused';
  details: string[];
  pattern?: IPattern;
  notebook?: INotebook;
}

function convertPattern(name: string, doc: YAML.Document, text: string, renamed: boolean, state: string): IConverted[] {
  const changes: string[] = [];
  const docs = fixPattern(name, doc, changes);
  return docs.map(([n, d]) => {
    const out = changes.length ? d.toString({ lineWidth: 0 }) : text;
    const target = `${state}/patterns/${n}.yaml`;
    const details = [
      ...(renamed && docs.length === 1 ? [`renamed to ${n}.yaml (meow pattern files end in .yaml)`] : []),
      ...changes
    ];
    const parsed = parsePattern(n, out);
    if (!parsed.pattern) {
      return {
        target,
        text: out,
        outcome: 'refused',
        details: parsed.issues.map(i => `meow refuses it: field "${i.field}" ${i.message}; fix: ${i.fix}`)
      };
    }
    details.push(...behaviourNotes(parsed.pattern).map(n2 => `note: ${n2}`));
    return {
      target,
      text: out,
      outcome: changes.length || renamed ? 'changed' : 'ok',
      details,
      pattern: parsed.pattern
    };
  });
}

function convertRecipe(
  name: string,
  nb: unknown,
  wrapper: Record<string, unknown> | undefined,
  state: string
): IConverted {
  const target = `${state}/recipes/${name}.ipynb`;
  const details: string[] = [];
  if (wrapper) {
    details.push(
      `notebook taken out of mig_meow's YAML wrapper${typeof wrapper.source === 'string' ? ` (source: ${wrapper.source})` : ''}`
    );
    if (wrapper.environments && Object.keys(wrapper.environments as object).length) {
      details.push(
        'dropped "environments": meow reads executor and resources from the notebook metadata "meow" or the pattern'
      );
    }
  }
  const text = JSON.stringify(nb, null, 1) + '\n';
  const parsed = parseRecipeNotebook(name, text, 'import');
  if (!parsed.recipe) {
    const prefix = wrapper ? 'recipe.' : '';
    return {
      target,
      text,
      outcome: 'refused',
      details: parsed.issues.map(i => `meow refuses it: field "${prefix}${i.field}" ${i.message}; fix: ${i.fix}`)
    };
  }
  return { target, text, outcome: wrapper ? 'changed' : 'ok', details, notebook: parsed.recipe.notebook };
}

/** Convert one source file (pattern or recipe, told apart by content unless its folder says). */
async function convert(src: { file: string; shown: string; kind?: string }, state: string): Promise<IConverted[]> {
  const name = migName(src.file);
  const base = path.basename(src.file);
  let text: string;
  try {
    text = await fs.readFile(src.file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${src.file}: ${(err as Error).message}`);
  }
  const found = classify(text);
  if (!found) {
    return [
      {
        target: '',
        text,
        outcome: 'refused',
        details: ['is neither a notebook nor a YAML mapping (a mig_meow pattern or recipe); check the file']
      }
    ];
  }
  if (found.kind === 'notebook') {
    return [convertRecipe(name, found.nb, undefined, state)];
  }
  const obj = found.doc.toJS() as Record<string, unknown>;
  const isRecipe = src.kind === 'recipe' || (src.kind !== 'pattern' && 'recipe' in obj && !('recipes' in obj));
  if (isRecipe) {
    if (!('recipe' in obj)) {
      return [
        {
          target: '',
          text,
          outcome: 'refused',
          details: ['has no "recipe:" (the notebook); export it again from mig_meow']
        }
      ];
    }
    let nb = obj.recipe;
    if (typeof nb === 'string') {
      try {
        nb = JSON.parse(nb);
      } catch {
        // left as is: parseRecipeNotebook says what is wrong
      }
    }
    return [convertRecipe(name, nb, obj, state)];
  }
  return convertPattern(name, found.doc, text, base !== `${name}.yaml`, state);
}

/**
 * Convert PATHs into the files of a workgroup and (unless dryRun) write them.
 * Throws for a missing or unreadable path.
 */
export async function importMig(given: string | string[], options: IImportMigOptions = {}): Promise<IImportMigResult> {
  const state = options.stateDir ?? '.meow';
  const root = path.resolve(options.into ?? '.');
  const files: Record<string, string> = {};
  const notes: IImportNote[] = [];
  const patterns: IPattern[] = [];
  const notebooks = new Map<string, INotebook>();
  for (const one of Array.isArray(given) ? given : [given]) {
    for (const src of await sources(one)) {
      for (const c of await convert(src, state)) {
        const note: IImportNote = { source: src.shown, outcome: c.outcome, details: c.details };
        if (c.target) {
          note.target = c.target;
        }
        notes.push(note);
        if (c.outcome === 'refused') {
          continue;
        }
        if (files[c.target] !== undefined) {
          note.outcome = 'skipped';
          note.details.push(`another imported file also makes ${c.target}; rename one of them`);
          continue;
        }
        files[c.target] = c.text;
        if (c.pattern) {
          patterns.push(c.pattern);
        }
        if (c.notebook) {
          notebooks.set(path.basename(c.target, '.ipynb'), c.notebook);
        }
      }
    }
  }
  await recipeNotes(root, state, patterns, notebooks, notes);
  if (!options.dryRun) {
    await write(root, files, notes, !!options.force);
  }
  return { files, notes };
}

/** Warn about patterns whose recipe is missing or does not assign their variables. */
async function recipeNotes(
  root: string,
  state: string,
  patterns: IPattern[],
  notebooks: Map<string, INotebook>,
  notes: IImportNote[]
): Promise<void> {
  for (const p of patterns) {
    const note = notes.find(n => n.target === `${state}/patterns/${p.name}.yaml`)!;
    const nb = notebooks.get(p.recipe);
    if (!nb) {
      const there = await fs
        .stat(path.join(root, state, 'recipes', `${p.recipe}.ipynb`))
        .then(() => true)
        .catch(() =>
          fs.stat(path.join(root, state, 'recipes', `${p.recipe}.yaml`)).then(
            () => true,
            () => false
          )
        );
      if (!there) {
        note.details.push(
          `note: recipe "${p.recipe}" is neither imported nor in the workgroup; the pattern waits for it`
        );
      }
      continue;
    }
    for (const w of recipeVariableWarnings(p, recipeVariables(nb))) {
      note.details.push(`note: field "${w.field}" ${w.message} (${w.fix})`);
    }
  }
}

/** Write the files; an existing different file is kept unless `force`. */
async function write(root: string, files: Record<string, string>, notes: IImportNote[], force: boolean): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const abs = path.join(root, rel);
    const note = notes.find(n => n.target === rel && n.outcome !== 'skipped')!;
    const old = await fs.readFile(abs, 'utf8').catch(() => undefined);
    if (old === text) {
      note.outcome = 'unchanged';
      continue;
    }
    if (old !== undefined && !force) {
      note.outcome = 'skipped';
      note.details.push(`${rel} exists and differs; kept it (use --force to replace it)`);
      continue;
    }
    if (old !== undefined) {
      note.details.push(`replaced the existing ${rel} (--force)`);
    }
    await fs.mkdir(path.dirname(abs), { recursive: true });
    await fs.writeFile(abs, text);
  }
}

const WORDS: Record<IImportNote['outcome'], string> = {
  ok: 'imported',
  changed: 'imported, changed',
  unchanged: 'already there',
  skipped: 'NOT written',
  refused: 'REFUSED'
};

/** The report: a line per file, its changes indented, and a summary. */
export function formatImport(result: IImportMigResult, dryRun = false): string {
  const lines: string[] = [];
  for (const n of result.notes) {
    lines.push(`${n.source}${n.target ? ` → ${n.target}` : ''}  ${WORDS[n.outcome]}`);
    lines.push(...n.details.map(d => `  - ${d}`));
  }
  const count = (o: IImportNote['outcome'][]) => result.notes.filter(n => o.includes(n.outcome)).length;
  lines.push(
    `${dryRun ? 'would write' : 'wrote'} ${count(['ok', 'changed'])} file(s), ${count(['unchanged'])} already there, ` +
      `${count(['skipped'])} not written, ${count(['refused'])} refused`
  );
  return lines.join('\n') + '\n';
}

/** The command; returns the exit code (1 if anything was refused or not written). */
export async function importMigCommand(paths: string[], options: IImportMigOptions): Promise<number> {
  let result: IImportMigResult;
  try {
    result = await importMig(paths, options);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 2;
  }
  process.stdout.write(formatImport(result, options.dryRun));
  return result.notes.some(n => n.outcome === 'refused' || n.outcome === 'skipped') ? 1 : 0;
}

export function addImportMigCommand(program: Command): void {
  program
    .command('import-mig')
    .description(
      'set up a workgroup from a mig_meow meow_directory (patterns/, recipes/) or exported pattern and recipe files; ' +
        'reports every change it makes; exit 1 if a file was refused or not written'
    )
    .argument('<paths...>', 'a meow_directory, a folder of exported files, or pattern/recipe files')
    .option('--into <workgroup>', 'the workgroup to set up', '.')
    .option('--force', 'replace existing pattern and recipe files that differ')
    .option('--dry-run', 'report what would be written, write nothing')
    .option('--state-dir <dir>', 'state folder inside the workgroup', '.meow')
    .action(async (paths: string[], opts: IImportMigOptions) => {
      process.exitCode = await importMigCommand(paths, opts);
    });
}
