/**
 * `meow paused` and `meow resume`: see and lift the pauses of runaway limits.
 *
 * Both work on the files in `<state>/paused/` only, so they work the same
 * whether the service runs or not: a running service watches that folder and
 * resumes the rule (and rescans its files) as soon as the file is gone.
 */
import { Command, Option } from 'commander';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IPausedRule } from '../core/types';
import { pausedFile, pausedFolder, readPausedFolder } from './jobs/limits';
import type { ILogger } from './log';

/** Where the commands write; tests pass their own. */
export interface ICliOutput {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: ICliOutput = {
  out: text => process.stdout.write(text),
  err: text => process.stderr.write(text)
};

/** Table of paused rules, one per line: pattern, limit, since, reason. */
export function formatPaused(rules: IPausedRule[]): string {
  if (!rules.length) {
    return 'no paused patterns';
  }
  const width = (key: 'pattern' | 'limit') => Math.max(key.length, ...rules.map(r => r[key].length));
  const [wp, wl] = [width('pattern'), width('limit')];
  const line = (p: string, l: string, s: string, r: string) =>
    `${p.padEnd(wp)}  ${l.padEnd(wl)}  ${s.padEnd(24)}  ${r}`;
  return [
    line('PATTERN', 'LIMIT', 'SINCE', 'REASON'),
    ...rules.map(r =>
      line(r.pattern, r.limit, r.since, r.reason + (r.path ? ` (trigger ${JSON.stringify(r.path)})` : ''))
    )
  ].join('\n');
}

/** Checks the workgroup exists, so a typo is not answered with "nothing paused". */
async function workgroupRoot(workgroup: string): Promise<string> {
  const root = path.resolve(workgroup);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new Error(`workgroup ${root} is not a folder`);
  }
  return root;
}

export async function listPaused(
  workgroup: string,
  options: { stateDir: string; format?: string },
  io: ICliOutput = processOutput
): Promise<number> {
  const root = await workgroupRoot(workgroup);
  const warnings: string[] = [];
  const log: ILogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: m => warnings.push(m),
    error: m => warnings.push(m)
  };
  const rules = await readPausedFolder(pausedFolder(root, options.stateDir), log);
  warnings.forEach(w => io.err(`warning: ${w}\n`));
  if (options.format === 'json') {
    io.out(JSON.stringify({ paused: rules }, null, 2) + '\n');
  } else {
    io.out(formatPaused(rules) + '\n');
    if (rules.length) {
      io.out(`\nResume one with: meow resume ${workgroup} PATTERN\n`);
    }
  }
  return 0;
}

export async function resumePattern(
  workgroup: string,
  pattern: string,
  options: { stateDir: string },
  io: ICliOutput = processOutput
): Promise<number> {
  const root = await workgroupRoot(workgroup);
  const file = pausedFile(root, options.stateDir, pattern);
  try {
    await fs.unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err;
    }
    const others = (await readPausedFolder(pausedFolder(root, options.stateDir))).map(r => r.pattern);
    io.err(
      `error: pattern "${pattern}" is not paused (there is no ${path.relative(root, file)})` +
        (others.length ? `; paused patterns: ${others.join(', ')}` : '; no pattern is paused') +
        '\n'
    );
    return 1;
  }
  io.out(
    `resumed pattern "${pattern}" (deleted ${path.relative(root, file)}). ` +
      'A running meow resumes it now and processes its files; otherwise it runs when meow starts.\n'
  );
  return 0;
}

/** Add `paused` and `resume` to `program` (the `meow` command). */
export function addLimitCommands(program: Command, io: ICliOutput = processOutput): Command {
  const stateDir = () => new Option('--state-dir <dir>', 'state folder inside the workgroup').default('.meow');
  const fail = (err: unknown) => {
    io.err(`error: ${(err as Error).message}\n`);
    return 1;
  };
  program
    .command('paused')
    .description('list the patterns a runaway limit (max_jobs, max_rate, max_depth) paused, with the limit and why')
    .argument('<workgroup>', 'the workgroup folder')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'text']).default('text'))
    .addOption(stateDir())
    .action(async (workgroup: string, opts: { stateDir: string; format: string }) => {
      process.exitCode = await listPaused(workgroup, opts, io).catch(fail);
    });
  program
    .command('resume')
    .description('resume a paused pattern: its files are processed again (works whether meow runs or not)')
    .argument('<workgroup>', 'the workgroup folder')
    .argument('<pattern>', 'the paused pattern')
    .addOption(stateDir())
    .action(async (workgroup: string, pattern: string, opts: { stateDir: string }) => {
      process.exitCode = await resumePattern(workgroup, pattern, opts, io).catch(fail);
    });
  return program;
}
