/**
 * Slurm's commands (sbatch, squeue, scontrol, scancel) behind a small typed
 * client for the Slurm executor. Commands run with `execFile` (no shell) and a
 * timeout; submissions are throttled and retried without ever submitting a
 * job twice. The parsers are exported on their own so they can be tested
 * without Slurm.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import type { ILogger } from '../log';

export * from './slurmOutput';
import type { ISlurmJobState, SlurmLogLevel } from './slurmOutput';
import { parseSbatchOutput, parseScontrolJob, parseSqueueLines, positive, SQUEUE_FORMAT } from './slurmOutput';

/** A Slurm command that failed, with what it printed. */
export class SlurmCommandError extends Error {
  constructor(options: SlurmCommandError.IOptions) {
    super(options.message);
    this.name = 'SlurmCommandError';
    this.command = options.command;
    this.stderr = options.stderr;
    this.exitCode = options.exitCode;
    this.timedOut = options.timedOut ?? false;
    this.notFound = options.notFound ?? false;
  }
  readonly command: string;
  readonly stderr: string;
  readonly exitCode?: number;
  readonly timedOut: boolean;
  /** The command itself is missing (ENOENT) or not executable. */
  readonly notFound: boolean;
}

export namespace SlurmCommandError {
  export interface IOptions {
    message: string;
    command: string;
    stderr: string;
    exitCode?: number;
    timedOut?: boolean;
    notFound?: boolean;
  }
}

// squeue errors that mean "no such job" rather than "cannot ask": a single
// unknown id fails with this, several unknown ids print nothing.
const UNKNOWN_JOB = /Invalid job id specified/i;
// scancel of a job that already ended.
const ALREADY_DONE = /already completing or completed|Invalid job id specified|Job has already finished/i;
// sbatch errors retrying cannot fix: the request itself is wrong.
const PERMANENT_SBATCH = new RegExp(
  [
    'Invalid partition',
    'Requested partition configuration not available',
    'Requested node configuration is not available',
    'can not be satisfied',
    'More processors requested than permitted',
    'Node count specification invalid',
    'unrecognized option',
    'invalid option',
    'requires an argument',
    'Unable to open file',
    'does not look like a batch script',
    'Invalid generic resource',
    'Invalid (account|qos|wckey|feature|nodes?|dependency|job array|directive|numeric value|TRES|Trackable RESource|job name)',
    'Invalid -*time',
    'Requested time limit is invalid',
    'Job violates accounting/QOS policy',
    'Access/permission denied',
    'not permitted to use'
  ].join('|'),
  'i'
);

/** squeue -t all on a busy cluster prints a lot. */
const MAX_OUTPUT = 64 * 1024 * 1024;

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** A job id as the commands take it (`123`, array `123_4`, het `123+0`). */
function checkId(id: string): string {
  if (!/^\d+([_+]\d+)?$/.test(id)) {
    throw new Error(`not a Slurm job id: ${JSON.stringify(id)}`);
  }
  return id;
}

function checkName(name: string): string {
  if (!name || /[\x00-\x1f\x7f]/.test(name)) {
    throw new Error(`a Slurm job name must be non-empty and on one line: ${JSON.stringify(name)}`);
  }
  return name;
}

/** stderr as one line for an error message. */
function brief(stderr: string): string {
  return stderr
    .split('\n')
    .map(l => l.trim())
    .filter(l => l && !/^Try "\w+ --help"/.test(l))
    .join('; ');
}

/**
 * Slurm's client commands for one executor. Submissions are spaced by
 * `submitPerSecond` in call order, so a burst of jobs does not flood the
 * controller, and retried with backoff without duplicates.
 */
export class SlurmCommands {
  constructor(options: SlurmCommands.IOptions = {}) {
    this._commands = {
      sbatch: options.sbatch ?? 'sbatch',
      squeue: options.squeue ?? 'squeue',
      scontrol: options.scontrol ?? 'scontrol',
      scancel: options.scancel ?? 'scancel'
    };
    this._timeoutMs = options.timeoutMs ?? 30000;
    this._spacingMs = 1000 / positive('submitPerSecond', options.submitPerSecond ?? 20);
    this._retries = options.retries ?? 5;
    this._backoffMs = options.backoffMs ?? 1000;
    const log = options.log;
    this._log = typeof log === 'function' ? log : log ? (level, message) => log[level](message) : () => undefined;
  }

  /**
   * Whether Slurm can be used from here: the commands exist and the
   * controller answers. The message says what is missing and the fix.
   */
  async available(): Promise<{ ok: true; version: string } | { ok: false; message: string }> {
    const fix =
      "install Slurm's client commands (Debian: apt-get install slurm-client) or `make slurm` for a local test cluster; set executor: local to run here";
    let version: string;
    try {
      version = (await this._run('sbatch', ['--version'])).trim();
    } catch (e) {
      return { ok: false, message: this._unavailable('sbatch', e, fix) };
    }
    try {
      // Any cheap question the controller must answer.
      await this._run('squeue', ['-h', '-o', '%i', '-t', 'RUNNING', '-u', String(process.getuid?.() ?? 0)]);
    } catch (e) {
      return { ok: false, message: this._unavailable('squeue', e, fix) };
    }
    return { ok: true, version };
  }

  /**
   * Submit a batch script; returns the Slurm job id. `name` must be unique
   * to this submission: after a failed or timed-out attempt it is how the
   * job is found if sbatch submitted it anyway.
   */
  async submit(scriptPath: string, options: SlurmCommands.ISubmitOptions): Promise<string> {
    const name = checkName(options.name);
    const args = [
      '--parsable',
      `--job-name=${name}`,
      `--chdir=${path.resolve(options.cwd)}`,
      ...(options.args ?? []),
      path.resolve(options.cwd, scriptPath)
    ];
    let pause = this._backoffMs;
    let lastError: unknown;
    for (let attempt = 0; attempt <= this._retries; attempt++) {
      if (attempt > 0) {
        await sleep(pause);
        pause = Math.min(pause * 2, 30000);
        // A timed-out sbatch may have submitted: never submit twice.
        try {
          const found = await this.findByName(name);
          if (found) {
            this._log('info', `sbatch ${name}: found job ${found.id} submitted by an earlier attempt`);
            return found.id;
          }
        } catch (e) {
          // Cannot tell whether it was submitted: wait and ask again.
          lastError = e;
          this._log('warn', `sbatch ${name}: cannot look the job up before retrying: ${(e as Error).message}`);
          continue;
        }
      }
      await this._submitSlot();
      try {
        const out = await this._run('sbatch', args);
        const id = parseSbatchOutput(out);
        if (id) {
          return id;
        }
        lastError = new Error(`sbatch printed no job id: ${JSON.stringify(out.trim())}`);
      } catch (e) {
        lastError = e;
        if (e instanceof SlurmCommandError && (e.notFound || (!e.timedOut && PERMANENT_SBATCH.test(e.stderr)))) {
          throw e;
        }
      }
      this._log(
        'warn',
        `sbatch ${name} failed (attempt ${attempt + 1} of ${this._retries + 1}): ${(lastError as Error).message}`
      );
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** The newest job with exactly this name, finished ones included while the controller keeps them. */
  async findByName(name: string): Promise<ISlurmJobState | undefined> {
    checkName(name);
    // --name takes a comma-separated list: such a name is filtered here only.
    const filter = name.includes(',') ? [] : [`--name=${name}`];
    const jobs = parseSqueueLines(await this._run('squeue', this._squeueArgs(filter))).filter(j => j.name === name);
    return jobs.sort((a, b) => compareIds(b.id, a.id))[0];
  }

  /**
   * States of many jobs in one squeue call. Jobs the controller no longer
   * knows (purged after MinJobAge, or never existed) are absent.
   */
  async states(ids: string[]): Promise<Map<string, ISlurmJobState>> {
    const result = new Map<string, ISlurmJobState>();
    const unique = [...new Set(ids.map(checkId))];
    if (unique.length === 0) {
      return result;
    }
    let out: string;
    try {
      out = await this._run('squeue', this._squeueArgs([`--jobs=${unique.join(',')}`]));
    } catch (e) {
      if (e instanceof SlurmCommandError && UNKNOWN_JOB.test(e.stderr)) {
        return result;
      }
      throw e;
    }
    for (const job of parseSqueueLines(out)) {
      result.set(job.id, job);
    }
    return result;
  }

  /** One job from `scontrol show job`: exit code and expanded output paths; undefined if unknown. */
  async detail(id: string): Promise<ISlurmJobState | undefined> {
    let out: string;
    try {
      out = await this._run('scontrol', ['show', 'job', '-o', checkId(id)]);
    } catch (e) {
      if (e instanceof SlurmCommandError && UNKNOWN_JOB.test(e.stderr)) {
        return undefined;
      }
      throw e;
    }
    // An array job prints one line per task: the one asked for.
    const jobs = out
      .split('\n')
      .map(parseScontrolJob)
      .filter((j): j is ISlurmJobState => !!j);
    return jobs.find(j => j.id === id) ?? jobs[0];
  }

  /** Cancel a job; one that already ended (or is unknown) is not an error. */
  async cancel(id: string): Promise<void> {
    try {
      await this._run('scancel', [checkId(id)]);
    } catch (e) {
      if (e instanceof SlurmCommandError && ALREADY_DONE.test(e.stderr)) {
        return;
      }
      throw e;
    }
  }

  private _squeueArgs(filter: string[]): string[] {
    // --all: hidden partitions too; -t all: finished jobs the controller still has.
    return ['-h', '--all', '-t', 'all', ...filter, '-O', SQUEUE_FORMAT];
  }

  /** Waits for this caller's turn to submit: slots are handed out in call order. */
  private _submitSlot(): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, this._nextSlot);
    this._nextSlot = slot + this._spacingMs;
    return slot > now ? sleep(slot - now) : Promise.resolve();
  }

  private _unavailable(command: keyof SlurmCommands.ICommands, e: unknown, fix: string): string {
    const exe = this._commands[command];
    if (e instanceof SlurmCommandError && e.notFound) {
      return `Slurm is not available here: \`${exe}\` was not found; ${fix}`;
    }
    const why = e instanceof Error ? e.message : String(e);
    return `Slurm is not available here: ${why}; start the controller or check slurm.conf (${fix})`;
  }

  /** Runs one command (no shell) and returns its stdout. */
  private _run(command: keyof SlurmCommands.ICommands, args: string[]): Promise<string> {
    const exe = this._commands[command];
    const shown = `${command} ${args.join(' ')}`;
    this._log('debug', `running ${exe} ${args.join(' ')}`);
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      // execFile waits for stdout to close; a child that leaves a process
      // holding it open must not make us wait past the timeout.
      const backstop = setTimeout(() => {
        settled = true;
        reject(this._timeoutError(command, shown, ''));
      }, this._timeoutMs + 2000);
      execFile(
        exe,
        args,
        { timeout: this._timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, env: commandEnv(), encoding: 'utf8' },
        (error, stdout, stderr) => {
          clearTimeout(backstop);
          if (settled) {
            return;
          }
          if (!error) {
            resolve(stdout);
            return;
          }
          const code = typeof error.code === 'number' ? error.code : undefined;
          if (error.code === 'ENOENT' || error.code === 'EACCES') {
            reject(
              new SlurmCommandError({
                message: `${command}: \`${exe}\` not found or not executable (${error.code})`,
                command: shown,
                stderr: '',
                notFound: true
              })
            );
          } else if (error.killed && code === undefined) {
            reject(this._timeoutError(command, shown, stderr));
          } else {
            const text = brief(stderr);
            reject(
              new SlurmCommandError({
                message: text || `${command} failed (${error.message.split('\n')[0]})`,
                command: shown,
                stderr,
                exitCode: code
              })
            );
          }
        }
      );
    });
  }

  private _timeoutError(command: string, shown: string, stderr: string): SlurmCommandError {
    const text = brief(stderr);
    return new SlurmCommandError({
      message: `${command} did not answer within ${this._timeoutMs / 1000} s${text ? `: ${text}` : ''}`,
      command: shown,
      stderr,
      timedOut: true
    });
  }

  private readonly _commands: SlurmCommands.ICommands;
  private readonly _timeoutMs: number;
  private readonly _spacingMs: number;
  private readonly _retries: number;
  private readonly _backoffMs: number;
  private readonly _log: (level: SlurmLogLevel, message: string) => void;
  private _nextSlot = 0;
}

export namespace SlurmCommands {
  export interface ICommands {
    sbatch: string;
    squeue: string;
    scontrol: string;
    scancel: string;
  }

  export interface IOptions extends Partial<ICommands> {
    /** Per command, in ms (default 30 s). */
    timeoutMs?: number;
    /** Submissions per second at most (default 20). */
    submitPerSecond?: number;
    /** Times sbatch is retried after a failure that may pass (default 5). */
    retries?: number;
    /** First pause before a retry, in ms; doubles each time, at most 30 s (default 1 s). */
    backoffMs?: number;
    log?: ILogger | ((level: SlurmLogLevel, message: string) => void);
  }

  export interface ISubmitOptions {
    /** Job name, unique to this submission (see `submit`). */
    name: string;
    /** The job's working directory (`--chdir`); a relative script path is resolved from it. */
    cwd: string;
    /** More sbatch options, before the script (`--hold`, `--begin=now+1hour`). */
    args?: string[];
  }
}

/** Numeric order of job ids (`10` after `9`; array tasks after their job). */
function compareIds(a: string, b: string): number {
  const pa = a.split(/[_+]/).map(Number);
  const pb = b.split(/[_+]/).map(Number);
  return pa[0] - pb[0] || (pa[1] ?? -1) - (pb[1] ?? -1);
}

// Environment variables that would change what squeue selects or prints
// (`man squeue`); the options given say it all. Cluster and federation
// choices stay.
const SQUEUE_OVERRIDES = [
  'ACCOUNT',
  'ARRAY',
  'FORMAT',
  'FORMAT2',
  'LICENSES',
  'NAMES',
  'PARTITION',
  'PRIORITY',
  'QOS',
  'SIBLING',
  'SORT',
  'STATES',
  'USERS'
].map(v => `SQUEUE_${v}`);

/** The environment for the commands, without SQUEUE_OVERRIDES. */
function commandEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of SQUEUE_OVERRIDES) {
    delete env[k];
  }
  return env;
}
