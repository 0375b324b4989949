/**
 * What Slurm's commands print, read into types: job state words, squeue and
 * scontrol lines, sbatch's answer, and the #SBATCH lines for resources. Pure
 * (no processes), so it is tested on output captured from a real cluster.
 */
/** The base job state words squeue and scontrol print (`man squeue`, JOB STATE CODES). */
export const SLURM_STATES = [
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'STOPPED',
  'SIGNALING',
  'STAGE_OUT',
  'RESIZING',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESV_DEL_HOLD',
  'SPECIAL_EXIT',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'REVOKED',
  // A word this list does not know (a newer Slurm); `rawState` has it.
  'UNKNOWN'
] as const;

export type SlurmState = (typeof SLURM_STATES)[number];

/** What Slurm says about one job. */
export interface ISlurmJobState {
  id: string;
  name: string;
  /** The base state word: no `+`, no `by <uid>`. */
  state: SlurmState;
  /** The state as Slurm printed it (tells which word `UNKNOWN` stands for). */
  rawState?: string;
  /** Why it is pending or how it ended (Slurm's reason code); none when `None`. */
  reason?: string;
  /** Node list it ran on, if any. */
  nodes?: string;
  /** Time used and time limit as Slurm prints them (`1:25`, `365-00:00:00`, `UNLIMITED`). */
  elapsed?: string;
  timeLimit?: string;
  /** For a job that ended: its exit status and the signal that ended it (0: none). */
  exitCode?: number;
  signal?: number;
  /** Path of its standard output, `%` patterns expanded. */
  stdout?: string;
  stderr?: string;
}

export type SlurmLogLevel = 'debug' | 'info' | 'warn' | 'error';

// Final: the controller will not run the job again by itself. PREEMPTED
// counts because a job Slurm requeues after preemption shows as PENDING.
const FINAL_STATES: ReadonlySet<SlurmState> = new Set<SlurmState>([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'REVOKED'
]);

/** True when the job has ended for good. */
export function isFinalSlurmState(state: SlurmState): boolean {
  return FINAL_STATES.has(state);
}

const MEANINGS: Partial<Record<SlurmState, string>> = {
  COMPLETED: 'finished with exit code 0',
  FAILED: 'ended with a non-zero exit code or another failure',
  CANCELLED: 'was cancelled (scancel, or by an administrator)',
  TIMEOUT: 'exceeded its Slurm time limit',
  NODE_FAIL: 'its node failed',
  PREEMPTED: 'was preempted by a higher-priority job',
  BOOT_FAIL: 'its node failed to boot',
  DEADLINE: 'reached its deadline before it could finish',
  OUT_OF_MEMORY: 'ran out of the memory it asked for',
  REVOKED: 'was revoked (it runs on another cluster of the federation)'
};

/** One line for people: what a final state means ("the job …"). */
export function slurmStateMeaning(state: SlurmState): string {
  return MEANINGS[state] ?? `is ${state.toLowerCase().replace(/_/g, ' ')}`;
}

/** `CANCELLED by 0`, `COMPLETING+`, `running` → the base word. */
export function parseSlurmState(text: string): { state: SlurmState; rawState: string } {
  const rawState = text.trim();
  const word = rawState.split(/[\s+]/)[0].toUpperCase();
  const known = (SLURM_STATES as readonly string[]).includes(word);
  return { state: known ? (word as SlurmState) : 'UNKNOWN', rawState };
}

// --- squeue ----------------------------------------------------------------

// The unit separator cannot appear in what squeue prints; the name, the one
// free-text field, comes last so that even a separator in it could not shift
// the others.
const SEP = '\x1f';
const SQUEUE_FIELDS = ['JobID', 'State', 'Reason', 'NodeList', 'TimeUsed', 'TimeLimit', 'exit_code', 'STDOUT', 'Name'];

/** squeue's `-O` argument for the lines `parseSqueueLines` reads. */
export const SQUEUE_FORMAT = SQUEUE_FIELDS.map((f, i) => `${f}:${i < SQUEUE_FIELDS.length - 1 ? SEP : ''}`).join(',');

function optional(value: string | undefined): string | undefined {
  const v = value?.trim();
  return !v || v === 'None' || v === '(null)' || v === 'N/A' ? undefined : v;
}

/** A wait status (squeue's exit_code) as exit code and signal. */
function splitWaitStatus(status: number): { exitCode: number; signal: number } {
  return { exitCode: (status >> 8) & 0xff, signal: status & 0x7f };
}

/** Lines of `squeue -h -O SQUEUE_FORMAT`; lines that do not fit are skipped. */
export function parseSqueueLines(text: string): ISlurmJobState[] {
  const jobs: ISlurmJobState[] = [];
  for (const line of text.split('\n')) {
    const parts = line.replace(/\r$/, '').split(SEP);
    if (parts.length < SQUEUE_FIELDS.length) {
      continue;
    }
    const [id, stateText, reason, nodes, elapsed, timeLimit, status] = parts.map(p => p.trim());
    const stdout = parts[7].trim();
    const name = parts.slice(8).join(SEP).trimEnd();
    if (!/^\d/.test(id)) {
      continue;
    }
    const job: ISlurmJobState = { id, name, ...parseSlurmState(stateText) };
    assignDefined(job, {
      reason: optional(reason),
      nodes: optional(nodes),
      elapsed: optional(elapsed),
      timeLimit: optional(timeLimit),
      // squeue prints a pending job's path unexpanded (`out-%j.txt`).
      stdout: stdout.includes('%') ? undefined : optional(stdout)
    });
    if (isFinalSlurmState(job.state) && /^\d+$/.test(status)) {
      Object.assign(job, splitWaitStatus(Number(status)));
    }
    jobs.push(job);
  }
  return jobs;
}

// --- scontrol --------------------------------------------------------------

/**
 * `scontrol show job -o` fields. Values may hold spaces (names, paths), so
 * a field runs to the next ` Key=` whose key looks like scontrol's
 * (capitalised: `JobState`, `CPUs/Task`, `ReqB:S:C:T`, `MCS_label`); the job
 * name runs to ` UserId=`, which always follows it.
 */
export function parseScontrolFields(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  const text = line.replace(/\r?\n$/, '');
  const keyRe = /(?:^|\s)([A-Z][A-Za-z0-9_:/]*)=/g;
  const starts: { key: string; valueStart: number; keyStart: number }[] = [];
  for (let m = keyRe.exec(text); m; m = keyRe.exec(text)) {
    starts.push({ key: m[1], keyStart: m.index, valueStart: m.index + m[0].length });
  }
  // A job name with ` Key=` in it: drop the keys that fall inside it.
  const nameAt = starts.findIndex(s => s.key === 'JobName');
  const userAt = starts.findIndex((s, i) => i > nameAt && s.key === 'UserId');
  if (nameAt >= 0 && userAt > nameAt + 1) {
    starts.splice(nameAt + 1, userAt - nameAt - 1);
  }
  starts.forEach((s, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].keyStart : text.length;
    if (!fields.has(s.key)) {
      fields.set(s.key, text.slice(s.valueStart, end).trim());
    }
  });
  return fields;
}

/** One line of `scontrol show job -o`, or undefined if it is not a job. */
export function parseScontrolJob(line: string): ISlurmJobState | undefined {
  const f = parseScontrolFields(line);
  const id = f.get('JobId');
  const stateText = f.get('JobState');
  if (!id || !stateText) {
    return undefined;
  }
  const job: ISlurmJobState = { id, name: f.get('JobName') ?? '', ...parseSlurmState(stateText) };
  assignDefined(job, {
    reason: optional(f.get('Reason')),
    nodes: optional(f.get('NodeList')),
    elapsed: optional(f.get('RunTime')),
    timeLimit: optional(f.get('TimeLimit')),
    stdout: optional(f.get('StdOut')),
    stderr: optional(f.get('StdErr'))
  });
  const exit = /^(\d+):(\d+)$/.exec(f.get('ExitCode') ?? '');
  if (exit && isFinalSlurmState(job.state)) {
    job.exitCode = Number(exit[1]);
    job.signal = Number(exit[2]);
  }
  return job;
}

// --- sbatch ----------------------------------------------------------------

/** The job id in `sbatch --parsable` output (`123` or `123;cluster`). */
export function parseSbatchOutput(stdout: string): string | undefined {
  const lines = stdout
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^(\d+)(?:;\S*)?$/.exec(lines[i]);
    if (m) {
      return m[1];
    }
  }
  return undefined;
}

/** Resources of one job, as `#SBATCH` directives can ask for them. */
export interface ISlurmResources {
  cpus?: number;
  memoryBytes?: number;
  gpus?: number;
  timeLimitMs?: number;
  partition?: string;
  /** Verbatim sbatch options (`--account=x`, `--qos=y`). */
  extraArgs?: string[];
}

export function positive(field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${field} must be a positive number, not ${value}`);
  }
  return value;
}

function oneLine(field: string, value: string): string {
  // A newline would end the directive and start a line of script.
  if (/[\r\n\0]/.test(value)) {
    throw new Error(`${field} must not contain a line break: ${JSON.stringify(value)}`);
  }
  return value;
}

/** Minutes as sbatch's `D-HH:MM:SS`. */
function slurmTime(minutes: number): string {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d}-${two(h)}:${two(m)}:00`;
}

/**
 * The `#SBATCH` lines for a job's resources. Memory rounds up to whole MB
 * and time up to whole minutes (Slurm's units), so a job never gets less
 * than it asked for.
 */
export function sbatchDirectives(r: ISlurmResources): string[] {
  const lines: string[] = [];
  if (r.cpus !== undefined) {
    lines.push(`--cpus-per-task=${Math.ceil(positive('cpus', r.cpus))}`);
  }
  if (r.memoryBytes !== undefined) {
    lines.push(`--mem=${Math.ceil(positive('memoryBytes', r.memoryBytes) / (1024 * 1024))}M`);
  }
  if (r.gpus !== undefined) {
    lines.push(`--gres=gpu:${Math.ceil(positive('gpus', r.gpus))}`);
  }
  if (r.timeLimitMs !== undefined) {
    lines.push(`--time=${slurmTime(Math.ceil(positive('timeLimitMs', r.timeLimitMs) / 60000))}`);
  }
  if (r.partition !== undefined) {
    lines.push(`--partition=${oneLine('partition', r.partition)}`);
  }
  (r.extraArgs ?? []).forEach((arg, i) => lines.push(oneLine(`extraArgs[${i}]`, arg)));
  return lines.map(l => `#SBATCH ${l}`);
}

/** Copies the defined values only (exactOptionalPropertyTypes-friendly). */
function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  for (const [k, v] of Object.entries(values)) {
    if (v !== undefined) {
      (target as Record<string, unknown>)[k] = v;
    }
  }
}
