/**
 * The MEOW data model, shared by the service and the JupyterLab panels.
 *
 * Everything under `src/core/` is pure: no file system, no network, no Node
 * or DOM APIs. The service does the I/O and hands plain values to the core,
 * so a pattern is validated by exactly the same code in the form and in the
 * engine.
 */

/** Kinds of file event a pattern can listen to. */
export type FileEventKind = 'created' | 'modified' | 'moved' | 'deleted';

export const FILE_EVENT_KINDS: readonly FileEventKind[] = ['created', 'modified', 'moved', 'deleted'];

/** Events a file trigger listens to when the pattern does not say. */
export const DEFAULT_FILE_EVENTS: readonly FileEventKind[] = ['created', 'modified'];

/**
 * How a trigger's glob is read (see `glob.ts`): `native` (picomatch, `*`
 * within a folder) or `fnmatch` (Python's, as mig_meow: `*` crosses `/`).
 */
export type GlobSyntax = 'native' | 'fnmatch';

/** A glob over workgroup-relative paths (P3). */
export interface IFileTrigger {
  kind: 'file';
  /** Glob relative to the workgroup root, POSIX separators, e.g. `start/*`. */
  path: string;
  events: FileEventKind[];
  /**
   * `fnmatch` for thesis-format patterns (and native ones with
   * `glob: fnmatch`); absent means `native`, so native digests never change.
   */
  glob?: GlobSyntax;
}

/** Default limits of a network listener (per port). */
export const DEFAULT_NETWORK_HOST = '127.0.0.1';
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 64;

/**
 * Raw TCP payload on a port becomes a file under `.meow/incoming/` whose path
 * is the job's trigger path (network-events paper). Every pattern on a port
 * shares one listener, so their listener settings must agree.
 */
export interface INetworkTrigger {
  kind: 'network';
  port: number;
  /** Address to listen on (default 127.0.0.1: this machine only). */
  host: string;
  /** When set, a connection's first line must be exactly this secret. */
  secret?: string;
  /** PEM certificate and key (workgroup-relative or absolute paths): TLS instead of plain TCP. */
  tls?: { cert: string; key: string };
  /** Largest payload accepted, in bytes. */
  maxBytes: number;
  /** Most connections received at the same time. */
  maxConnections: number;
}

/** What a timer does about firings missed while meow was not running. */
export type MissedFiringPolicy = 'once' | 'skip';

/** A timer: a cron expression or a fixed interval. */
export interface IScheduleTrigger {
  kind: 'schedule';
  /** Cron expression, when given. */
  cron?: string;
  /** Interval in milliseconds, when given as `every: 30s`. */
  everyMs?: number;
  /** IANA time zone of the cron expression (default: the machine's). */
  timezone?: string;
  /** Firings missed while meow was down: run `once` on start (default) or `skip` them. */
  missed: MissedFiringPolicy;
}

/**
 * Only fired by a person: the Run button, the HTTP API, `meow trigger`.
 * With `path`, matching workgroup files wait for a person to approve each
 * (human-in-the-loop); the approved file is the job's trigger path.
 */
export interface IManualTrigger {
  kind: 'manual';
  /** Glob of files that wait for approval, relative to the workgroup. */
  path?: string;
}

/**
 * "Nothing happened": fires once when no file matching `path` appeared or
 * changed for `forMs`, and again only after matching files resumed and went
 * silent again (thesis §27.3).
 */
export interface IAbsentTrigger {
  kind: 'absent';
  /** Glob relative to the workgroup root. */
  path: string;
  /** Length of the silence in milliseconds. */
  forMs: number;
}

export type Trigger = IFileTrigger | INetworkTrigger | IScheduleTrigger | IManualTrigger | IAbsentTrigger;

export type TriggerKind = Trigger['kind'];

/** One swept variable: values start, start+step, ... up to stop inclusive. */
export interface ISweepRange {
  start: number;
  stop: number;
  step: number;
  /**
   * Every value is a Python float. Set when start, stop or step was written
   * as a float (`0.0`): JavaScript numbers alone cannot tell `0.0` from `0`.
   * A non-integral bound or step makes the values floats without it.
   */
  float?: true;
}

/**
 * A value handed to a recipe. Plain JSON-like data, as loaded from YAML.
 * Floats whose value is integral (`1.0` in YAML) are kept as `PyFloat` so the
 * notebook receives `1.0`, not `1`, and mappings with a key that is not text
 * (`{1: a}`) as `PyDict` so it receives `{1: 'a'}` (see `pytypes.ts`).
 */
export type ParameterValue = unknown;

/** A pattern: when a recipe runs and with what (P1–P4). */
export interface IPattern {
  /** Unique among patterns (P1); the file stem of its definition. */
  name: string;
  /** Name of the recipe it uses (P2). */
  recipe: string;
  /** The event filter (P3). */
  trigger: Trigger;
  /** Recipe variable that receives the triggering path, if any. */
  input?: string;
  /** Variables passed to the recipe (P4); keywords substituted per job. */
  parameters: Record<string, ParameterValue>;
  /** Like parameters, but also drawn as outputs in the graph. */
  outputs: Record<string, ParameterValue>;
  /** One job per combination of these ranges (cartesian product). */
  sweep: Record<string, ISweepRange>;
  /** Which on-disk format it was read from. */
  format: 'native' | 'thesis';
  /**
   * Runaway protection (thesis §29.2). A tripped limit pauses the rule; no
   * event is dropped. Optional: absent means the defaults below.
   */
  limits?: IPatternLimits;
  /**
   * How often a job interrupted by a crash of meow or of its Jupyter server
   * is run again as the same job (default `DEFAULT_RETRIES`).
   */
  retries?: number;
  /** Where its jobs run (default: the recipe's, else the service's default). */
  executor?: ExecutorKind;
  /** What its jobs ask the executor for (merged over the recipe's). */
  resources?: IResources;
}

/** Where jobs run: this machine's kernels, Slurm, or another Jupyter server. */
export type ExecutorKind = 'local' | 'slurm' | 'jupyter';
export const EXECUTOR_KINDS: readonly ExecutorKind[] = ['local', 'slurm', 'jupyter'];

/**
 * Resources a job asks for (thesis §29.1). Slurm turns them into `#SBATCH`
 * lines; kernels on this machine or a Jupyter server only record them.
 */
export interface IResources {
  cpus?: number;
  memoryBytes?: number;
  gpus?: number;
  /** Wall-clock limit the scheduler enforces. */
  timeLimitMs?: number;
  /** Slurm partition (queue). */
  partition?: string;
  /** Passed verbatim to the scheduler, e.g. `--qos=high`. */
  extraArgs?: string[];
}

/** The job as the executor's engine knows it (a Slurm job, a remote kernel). */
export interface IJobExternal {
  /** Slurm job id or remote kernel id. */
  id: string;
  /** The engine's own state word, e.g. PENDING, RUNNING, COMPLETED. */
  state?: string;
  /** Why it is in that state, e.g. Resources, TimeLimit. */
  reason?: string;
  /** Node(s) or server it runs on. */
  host?: string;
}

/** Per-pattern runaway limits; a missing field means the default (0 = no limit). */
export interface IPatternLimits {
  /** Most jobs this pattern may create while its rule lives (`max_jobs`). */
  maxJobs?: number;
  /** Most jobs per minute (`max_rate`). */
  maxRate?: number;
  /** Longest provenance chain a job of this pattern may end (`max_depth`). */
  maxDepth?: number;
}

/** Default `max_depth`: long enough for the thesis's loops, short of a runaway. */
export const DEFAULT_MAX_DEPTH = 100;
/** Default `retries` for a job interrupted by a crash. */
export const DEFAULT_RETRIES = 1;

/** Which limit paused a rule. */
export type LimitKind = 'max_jobs' | 'max_rate' | 'max_depth';

/** A rule held back by a tripped limit, until a person resumes it. */
export interface IPausedRule {
  pattern: string;
  limit: LimitKind;
  /** What was exceeded, in words, e.g. "61 jobs in the last minute; max_rate is 60". */
  reason: string;
  /** ISO time the limit tripped. */
  since: string;
  /** The triggering path whose job would have exceeded it. */
  path?: string;
}

/** A notebook cell as stored in nbformat 4 JSON. */
export interface INotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  metadata: Record<string, any>;
  outputs?: any[];
  execution_count?: number | null;
  id?: string;
  attachments?: Record<string, any>;
}

/** A notebook in nbformat 4 JSON. */
export interface INotebook {
  cells: INotebookCell[];
  metadata: Record<string, any>;
  nbformat: number;
  nbformat_minor: number;
}

/** A recipe: a registered, frozen copy of a notebook (R1, R2). */
export interface IRecipe {
  /** Unique among recipes (R1); the file stem of its definition. */
  name: string;
  /** The runnable code (R2). */
  notebook: INotebook;
  /** Where the notebook was registered from, when known. */
  source?: string;
  /** Content digest computed by whoever read the file (the core does no hashing). */
  digest: string;
  /** Which on-disk format it was read from. */
  format: 'ipynb' | 'yaml';
  /** From the notebook's `metadata.meow.executor`. */
  executor?: ExecutorKind;
  /** From the notebook's `metadata.meow.resources`; a pattern's override them. */
  resources?: IResources;
}

/**
 * A rule: created by the system for every pattern whose recipe exists
 * (P5, R3). Never written by users.
 */
export interface IRule {
  /** Unique for the lifetime of the service (M1): a re-created rule gets a new id. */
  id: string;
  /** The pattern it was made from; the rule's filter is the pattern's (M2, M3). */
  pattern: IPattern;
  /** The recipe it was made from (M3). */
  recipe: IRecipe;
  /**
   * Identity of the rule's content (pattern definition + recipe digest).
   * Equal keys mean the rule would do the same work, which lets retroactive
   * matching skip files a previous run of the same rule already handled.
   */
  contentKey: string;
}

/** A file event after settling, as seen by rules. */
export interface IFileEvent {
  kind: FileEventKind;
  /** Workgroup-relative POSIX path. */
  path: string;
  /** For `moved`: the previous relative path. */
  from?: string;
  /** Milliseconds since the epoch when the event settled. */
  time: number;
  /** True when produced by retroactive matching (M10), not by the file system. */
  retroactive?: boolean;
}

/** Job statuses (spec §6). */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'skipped';

export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['done', 'failed', 'cancelled', 'skipped'];

/** Kinds of event that make jobs: file events, the other triggers, reruns. */
export type JobTriggerKind = FileEventKind | 'manual' | 'schedule' | 'network' | 'absent' | 'rerun';

/** What caused a job. */
export interface IJobTrigger {
  kind: JobTriggerKind;
  /** Workgroup-relative path of the triggering file. */
  path: string;
  /** sha256 of the triggering file's content when the event was handled. */
  hash?: string;
  /** When the event settled (ISO 8601). */
  time: string;
  retroactive?: boolean;
  /**
   * Who or what fired it, for people reading the job: a network peer
   * (`10.0.0.7:53422`), a person (`alice`), a schedule (`every 30s`).
   */
  source?: string;
  /**
   * Makes the job's idempotency key unique to this firing when the trigger
   * path is a workgroup file a person ran by hand (its content alone would
   * say "already handled").
   */
  firing?: string;
}

/** Why a job failed, in enough detail to fix it. */
export interface IJobError {
  message: string;
  /** Python exception name and value, when the kernel reported one. */
  ename?: string;
  evalue?: string;
  /** Traceback lines with terminal colour codes removed. */
  traceback?: string[];
  /** Index of the code cell that failed (0-based among all cells). */
  cell?: number;
}

/** The content of `job.yaml` (spec §6). */
export interface IJob {
  id: string;
  pattern: string;
  recipe: string;
  rule: string;
  /** `IRule.contentKey` of the rule that made it. */
  ruleKey: string;
  status: JobStatus;
  trigger: IJobTrigger;
  /** Every variable handed to the recipe, after keyword substitution. */
  parameters: Record<string, ParameterValue>;
  /**
   * The YAML text of each parameter whose JSON form loses its Python type
   * (`1.0` is 1 in JSON, `{1: 1}` is `{"1": 1}`), by name. The journal and
   * the API speak JSON: this carries the exact values (`typedParameters` in
   * pyvalue.ts reads them). Absent when no parameter needs it; not written
   * to `job.yaml`, whose YAML keeps the types itself.
   */
  typedParameters?: Record<string, string>;
  /** The job whose output triggered this one, if any (provenance). */
  parent?: string;
  /** Workgroup-relative paths the job wrote (provenance). */
  filesWritten: string[];
  created: string;
  started?: string;
  finished?: string;
  error?: IJobError;
  /** Which conductor ran it, e.g. `kernel`. */
  conductor?: string;
  /** Where it runs or ran: local kernels, Slurm or a remote Jupyter server. */
  executor?: ExecutorKind;
  /** Resources it asked for (from its pattern and recipe). */
  resources?: IResources;
  /** Its identity in the executor's engine: Slurm job id and state, remote kernel. */
  external?: IJobExternal;
  /** Kernelspec name used. */
  kernel?: string;
  /** Progress while running: code cells executed of total. */
  progress?: { done: number; total: number };
  /** For reruns: the job this one repeats. */
  rerunOf?: string;
  /**
   * Idempotency key: rule content, trigger path, content hash and sweep
   * values. Only an explicit rerun runs the same key twice.
   */
  key?: string;
  /** 1 for the first run; +1 each time a crash interrupted it and it ran again. */
  attempt?: number;
  /** Length of the provenance chain ending in this job (1 = no parent job). */
  depth?: number;
  /** Who cancelled it: a person, or M11 (its rule was removed). */
  cancelledBy?: 'user' | 'rule';
  /** Set when stored outputs were cut to the per-job cap. */
  outputsTruncated?: { message: string; droppedBytes: number };
}
