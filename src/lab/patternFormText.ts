/**
 * The pattern form's texts without any DOM: the help under each field, and
 * values as the text a field shows and back (YAML values, scheduler options).
 */
import { formatSize } from '../core/pattern';
import { PyFloat, parseYaml, stringifyYamlValues } from '../core/pyvalue';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NETWORK_HOST } from '../core/types';

/** Help shown under each field. */
export const FIELD_HELP: Record<string, string> = {
  name: 'Unique pattern name; the file is .meow/patterns/<name>.yaml. Letters, digits, "_", "-", ".".',
  recipe:
    'The registered recipe (notebook) this pattern runs. A pattern whose recipe does not exist yet is kept but does nothing (red in the graph).',
  trigger:
    'When the recipe runs: a file event, a message on a network port, a timer, a person (run by hand or approve waiting files), or a silence (nothing arrived for a while).',
  path: 'Glob relative to the workgroup, e.g. "start/*" (one folder level) or "data/**/*.csv" (any depth).',
  events: 'File events that trigger a job (default: created and modified).',
  glob: 'How the glob matches. Native: "*" stays within one folder, "**" goes deeper, dot files only when named. fnmatch, as mig_meow matched: "*" and "?" also match "/" and dot files ("deep/*" matches deep/a/b.txt and deep/.x). The thesis format always uses fnmatch. Nothing under .meow/ ever matches.',
  port: 'TCP port (1–65535); each message received becomes a file under .meow/incoming/ that triggers a job. Send with "meow send HOST:PORT FILE", nc or any TCP client. Patterns on the same port share one listener.',
  host: `Address to listen on. Empty: ${DEFAULT_NETWORK_HOST} (this machine only); 0.0.0.0 accepts other machines.`,
  secret: 'Optional shared secret: a connection must send it as its first line, else it is refused.',
  tlsCert: 'Optional TLS: PEM certificate file (workgroup-relative or absolute). Give the key too; empty = plain TCP.',
  tlsKey: 'PEM private key file of the TLS certificate.',
  maxBytes: `Largest message accepted, e.g. 100MB, 512KB or 2GiB (KB, MB, GB: powers of 1000; KiB, MiB, GiB: of 1024). Empty: ${formatSize(DEFAULT_MAX_PAYLOAD_BYTES)}. A larger message is refused with a reply.`,
  maxConnections: `Most connections received at the same time (empty: ${DEFAULT_MAX_CONNECTIONS}).`,
  schedule: 'Cron expression "minute hour day month weekday", e.g. "*/10 * * * *", or a macro like @hourly.',
  timezone: "IANA time zone of the cron expression, e.g. Europe/Copenhagen (empty: the machine's).",
  every: 'Fixed interval, e.g. 30s, 5m, 2h, 1h30m (at least 1s).',
  missed: 'Firings missed while meow was not running: run once when it starts, or skip them.',
  manualPath:
    'Optional glob of files that wait for a person\'s approval, e.g. "review/*": each appears under "Waiting for approval" in the pattern list, and Approve runs the recipe on it. Empty: the pattern only runs when someone presses Run.',
  absentPath: 'Glob of the files expected to keep arriving, e.g. "in/*".',
  absentFor:
    'Fires once when no matching file appeared or changed for this long, e.g. 10m, 2h, 1d; again only after files resumed and went silent again.',
  input: 'Recipe variable that receives the path of the triggering file (optional).',
  parameters:
    'Variables passed to the recipe. Values are YAML: 3, 1.5, true, "text", [1, 2]. Keywords like {FILENAME}, {REL_DIR}, {VGRID} are replaced per job.',
  outputs: 'Like parameters, but also drawn as outputs in the graph, e.g. outfile = {VGRID}/first/{FILENAME}.',
  sweep: 'One job per combination: each variable takes start, start+step, ... up to stop (inclusive).',
  executor:
    "Where the jobs run: this machine's Jupyter kernels (local), a Slurm cluster, or a remote Jupyter server. Service default: the recipe's choice (metadata.meow.executor), else the service's (settings.yaml).",
  resources:
    "What each job asks for. Slurm turns them into #SBATCH lines; local and remote kernels only record them. Empty fields ask for nothing (the recipe's or the scheduler's defaults).",
  cpus: 'CPU cores, a whole number ≥ 1.',
  memory: 'Memory with a unit, e.g. 500MB, 8GB or 16GiB.',
  gpus: 'GPUs, a whole number ≥ 0.',
  time: 'Wall-clock limit the scheduler enforces, e.g. 30m, 2h or 1d.',
  partition: "Slurm partition (queue), e.g. gpu (empty: the service's or the cluster's default).",
  extraArgs:
    'Further scheduler options, each starting with "-", separated by spaces, e.g. --qos=high --account=lab. Quote one that contains a space.'
};

/**
 * Scheduler options as typed: separated by spaces; single or double quotes
 * keep spaces inside one option (`--comment="a b"` → `--comment=a b`).
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) {
        quote = null;
      } else {
        cur += ch;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inToken = true;
    } else if (/\s/.test(ch)) {
      if (inToken) {
        out.push(cur);
        cur = '';
        inToken = false;
      }
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (inToken) {
    out.push(cur);
  }
  return out;
}

/** Scheduler options as the form shows them (the inverse of `splitArgs`). */
export function joinArgs(args: readonly string[]): string {
  return args.map(a => (a !== '' && !/[\s"']/.test(a) ? a : a.includes('"') ? `'${a}'` : `"${a}"`)).join(' ');
}

/** A value as the text a row shows; reading it back gives the same value. */
export function valueToText(v: unknown): string {
  if (typeof v === 'string') {
    const back = parseValueText(v);
    if (back.issues.length === 0 && back.value === v) {
      return v;
    }
    return JSON.stringify(v);
  }
  if (v instanceof PyFloat || typeof v === 'number' || typeof v === 'boolean' || v === null || typeof v === 'bigint') {
    return stringifyYamlValues(v).trim();
  }
  return stringifyYamlValues(v).trim();
}

/**
 * A row value: YAML, except that text starting with a keyword such as
 * `{VGRID}/out/{FILENAME}` (which YAML would read as a mapping) is text.
 * Empty means the empty string.
 */
export function parseValueText(text: string): { value: unknown; issues: string[] } {
  const t = text.trim();
  if (t === '') {
    return { value: '', issues: [] };
  }
  if (/^\{[A-Z_]+\}/.test(t)) {
    return { value: t, issues: [] };
  }
  const { value, problems } = parseYaml(t);
  if (problems.length) {
    return { value: undefined, issues: problems.map(p => p.message) };
  }
  return { value, issues: [] };
}
