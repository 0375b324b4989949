/**
 * `meow trigger WORKGROUP PATTERN [FILE|-]`: run a pattern by hand from the
 * command line or a script.
 *
 * It leaves a request in `<state>/requests/<pattern>/` (a payload copied
 * there first, then the request file, each written whole and renamed into
 * place), which the service picks up within half a second. So it works the
 * same whether meow runs or not — a request waits for the next start — and
 * needs no URL or token: whoever may write into the workgroup may run it.
 * When meow is running, the command waits until the job exists and prints it.
 */
import { Command, Option } from 'commander';
import { randomBytes } from 'crypto';
import { createReadStream, createWriteStream, promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import { parsePattern } from '../core/pattern';
import type { IJob } from '../core/types';
import type { ICliOutput } from './cliLimits';
import { writeFileAtomic } from './fsutil';
import { JobStore } from './jobs/jobStore';
import { WorkgroupLock } from './lock';
import { silentLogger } from './log';
import { PART_SUFFIX } from './triggers/incoming';
import type { IRunRequestFile } from './triggers/manual';
import { REQUEST_SUFFIX } from './triggers/manual';

const processOutput: ICliOutput = {
  out: text => process.stdout.write(text),
  err: text => process.stderr.write(text)
};

export interface ITriggerOptions {
  stateDir: string;
  /** Seconds to wait for the job when meow is running (0: do not wait). */
  wait: number;
  /** Upload FILE even when it lies inside the workgroup. */
  copy?: boolean;
  format?: 'text' | 'json';
}

export function addTriggerCommand(program: Command): void {
  program
    .command('trigger')
    .description(
      'run PATTERN by hand: on FILE (a workgroup file is run in place, any other is copied in; - reads standard input) ' +
        'or on nothing; works whether or not meow is running (the request waits for it)'
    )
    .argument('<workgroup>', 'the workgroup folder')
    .argument('<pattern>', 'the pattern to run')
    .argument('[file]', 'the file to run it on, or - for standard input')
    .option('--copy', 'copy FILE in even when it is inside the workgroup')
    .option(
      '--wait <seconds>',
      'how long to wait for the job when meow is running',
      (v: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) {
          throw new Error(`--wait must be a number of seconds (got "${v}")`);
        }
        return n;
      },
      30
    )
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--state-dir <dir>', 'state folder inside the workgroup').default('.meow'))
    .action(async (workgroup: string, pattern: string, file: string | undefined, opts: ITriggerOptions) => {
      process.exitCode = await triggerPattern(workgroup, pattern, file, opts);
    });
}

/** The command itself; returns the exit code. */
export async function triggerPattern(
  workgroup: string,
  pattern: string,
  file: string | undefined,
  options: ITriggerOptions,
  io: ICliOutput = processOutput,
  stdin: NodeJS.ReadableStream = process.stdin
): Promise<number> {
  const root = path.resolve(workgroup);
  try {
    if (!(await fs.stat(root).catch(() => undefined))?.isDirectory()) {
      throw new Error(`workgroup ${root} is not a folder`);
    }
    await checkPattern(root, options.stateDir, pattern);
    const id = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
    const dir = path.join(root, options.stateDir, 'requests', pattern);
    await fs.mkdir(dir, { recursive: true });
    const request: IRunRequestFile = { id, by: os.userInfo().username };
    const inside = file !== undefined && file !== '-' ? insideWorkgroup(root, options.stateDir, file) : undefined;
    if (inside && !options.copy) {
      request.path = inside;
    } else if (file !== undefined) {
      const name = `${id}.payload${file === '-' ? '' : path.extname(file)}`;
      const part = path.join(dir, name + PART_SUFFIX);
      const source = file === '-' ? stdin : createReadStream(path.resolve(file));
      await pipeline(source, createWriteStream(part));
      await fs.rename(part, path.join(dir, name));
      request.file = name;
    }
    await writeFileAtomic(path.join(dir, `${id}${REQUEST_SUFFIX}`), JSON.stringify(request) + '\n');
    const shown = path.join(options.stateDir, 'requests', pattern, `${id}${REQUEST_SUFFIX}`);
    const owner = await WorkgroupLock.owner(path.join(root, options.stateDir, 'service.lock'));
    if (owner === undefined) {
      say(
        io,
        options,
        { request: shown, running: false, jobs: [] },
        `request ${shown} saved; meow is not running on ${root}, so it runs when meow starts\n`
      );
      return 0;
    }
    if (options.wait === 0) {
      say(
        io,
        options,
        { request: shown, running: true, jobs: [] },
        `request ${shown} saved; meow (pid ${owner}) picks it up\n`
      );
      return 0;
    }
    return await waitForJobs(root, options, { id, pattern, request, shown, owner }, io);
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

/** The pattern must exist and be valid, so a typo is not left waiting forever. */
async function checkPattern(root: string, stateDir: string, pattern: string): Promise<void> {
  const dir = path.join(root, stateDir, 'patterns');
  for (const ext of ['.yaml', '.yml']) {
    const text = await fs.readFile(path.join(dir, pattern + ext), 'utf8').catch(() => undefined);
    if (text === undefined) {
      continue;
    }
    const parsed = parsePattern(pattern, text);
    if (!parsed.pattern) {
      const issues = parsed.issues.map(i => `  ${i.field}: ${i.message} — ${i.fix}`).join('\n');
      throw new Error(`pattern ${pattern} (${path.join(dir, pattern + ext)}) has errors; fix them first:\n${issues}`);
    }
    return;
  }
  const names = (await fs.readdir(dir).catch(() => [] as string[]))
    .filter(n => /\.ya?ml$/.test(n))
    .map(n => n.replace(/\.ya?ml$/, ''));
  throw new Error(
    `no pattern ${pattern} in ${dir}` +
      (names.length ? `; patterns there: ${names.sort().join(', ')}` : '; it has no patterns yet')
  );
}

/** The workgroup-relative path of a file inside the workgroup (not its state folder), else undefined. */
function insideWorkgroup(root: string, stateDir: string, file: string): string | undefined {
  const rel = path.relative(root, path.resolve(file)).split(path.sep).join('/');
  if (!rel || rel.startsWith('../') || rel === '..' || path.isAbsolute(rel)) {
    return undefined;
  }
  return rel === stateDir || rel.startsWith(`${stateDir}/`) ? undefined : rel;
}

async function waitForJobs(
  root: string,
  options: ITriggerOptions,
  r: { id: string; pattern: string; request: IRunRequestFile; shown: string; owner: number },
  io: ICliOutput
): Promise<number> {
  const requestFile = path.join(root, r.shown);
  const deadline = Date.now() + options.wait * 1000;
  const incoming = r.request.file
    ? `${options.stateDir}/incoming/manual/${r.pattern}/${r.id}${path.extname(r.request.file)}`
    : undefined;
  let goneSince: number | undefined;
  for (;;) {
    const jobs = (await readJobs(root, options.stateDir)).filter(
      j =>
        j.pattern === r.pattern &&
        (j.trigger.firing === r.id || (incoming !== undefined && j.trigger.path === incoming))
    );
    const pending = await fs.stat(requestFile).then(
      () => true,
      () => false
    );
    if (jobs.length) {
      say(
        io,
        options,
        { request: r.shown, running: true, jobs },
        jobs.map(j => `job ${j.id} ${j.status}: ${j.pattern} → ${j.recipe} for ${j.trigger.path}\n`).join('')
      );
      return 0;
    }
    goneSince = pending ? undefined : (goneSince ?? Date.now());
    if (goneSince !== undefined && Date.now() - goneSince > 3000) {
      // Taken but no job after a moment: the service logged why (paused, failed, made before).
      io.err(
        `meow (pid ${r.owner}) took the request but made no job yet; see its log for why (e.g. the pattern is paused)\n`
      );
      return 1;
    }
    if (Date.now() > deadline) {
      io.err(
        `no job after ${options.wait} s; the request ${r.shown} ${pending ? 'still waits' : 'was taken'} — ` +
          `is meow (pid ${r.owner}) busy? see its log\n`
      );
      return 1;
    }
    await new Promise(resolve => setTimeout(resolve, 200));
  }
}

async function readJobs(root: string, stateDir: string): Promise<IJob[]> {
  const store = new JobStore({ jobsDir: path.join(root, stateDir, 'jobs'), log: silentLogger, readOnly: true });
  return store.load().catch(() => []);
}

function say(
  io: ICliOutput,
  options: ITriggerOptions,
  json: { request: string; running: boolean; jobs: IJob[] },
  text: string
): void {
  io.out(options.format === 'json' ? JSON.stringify(json, null, 2) + '\n' : text);
}
