/**
 * Parsing definition files off the event loop.
 *
 * Reading YAML and validating a pattern is CPU work proportional to the
 * file's size; done on the main thread, one large file stalls every file
 * event, job and API request meanwhile. So the state monitor hands the
 * bytes to one worker thread, which calls the very same pure core functions
 * and sends back the result. Files are still applied one at a time in
 * order, so results and their order are those of parsing in-thread.
 *
 * The worker runs its own small script, `definitionWorker.js`, built next
 * to the service bundle from definitionWorker.ts (never the service's own
 * script: a program that embeds the service would start itself again in
 * the worker). Where that file is absent (ts-jest runs TypeScript, other
 * bundles), parsing stays in-thread.
 */
import { createHash } from 'crypto';
import { existsSync } from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { parsePattern } from '../../core/pattern';
import { fromTransfer, toTransfer } from '../../core/pyvalue';
import { parseRecipeNotebook, parseRecipeYaml } from '../../core/recipe';
import type { IPattern, IRecipe } from '../../core/types';
import { FILE_FIELD, issue, IValidationIssue } from '../../core/validation';

/** What to parse: a definition file's name, extension and bytes. */
export interface IParseRequest {
  kind: 'pattern' | 'recipe';
  name: string;
  ext: string;
  bytes: Uint8Array;
}

/** What a definition file says. */
export interface IParsedDefinition {
  pattern?: IPattern;
  recipe?: IRecipe;
  issues: IValidationIssue[];
  warnings: IValidationIssue[];
}

/** The worker's script, next to the bundle that holds this module. */
export const WORKER_SCRIPT = 'definitionWorker.js';

/** Parse one definition in this thread (the worker calls this too). */
export function parseDefinition(req: IParseRequest): IParsedDefinition {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(req.bytes);
  } catch {
    const loose = new TextDecoder('utf-8').decode(req.bytes);
    const line = loose.slice(0, loose.indexOf('\ufffd')).split('\n').length;
    return {
      issues: [
        issue(
          FILE_FIELD,
          `is not UTF-8 text (invalid bytes on line ${line}); is it a binary file, or saved in another encoding?`,
          'save it as UTF-8 text'
        )
      ],
      warnings: []
    };
  }
  if (req.kind === 'pattern') {
    const { pattern, issues, warnings } = parsePattern(req.name, text);
    return { pattern, issues, warnings };
  }
  // The digest of the bytes: for UTF-8 text the same as of the decoded text.
  const digest = createHash('sha256').update(req.bytes).digest('hex');
  const parsed =
    req.ext === '.ipynb' ? parseRecipeNotebook(req.name, text, digest) : parseRecipeYaml(req.name, text, digest);
  return { recipe: parsed.recipe, issues: parsed.issues, warnings: [] };
}

/** A result as a worker message: PyFloats would not survive structured clone. */
export function encode(result: IParsedDefinition): unknown {
  return { ...result, pattern: toTransfer(result.pattern), recipe: toTransfer(result.recipe) };
}

function decode(message: any): IParsedDefinition {
  return {
    issues: message.issues,
    warnings: message.warnings,
    pattern: fromTransfer(message.pattern) as IPattern | undefined,
    recipe: fromTransfer(message.recipe) as IRecipe | undefined
  };
}

interface IPending {
  resolve(result: IParsedDefinition): void;
  timer: NodeJS.Timeout;
}

/** Parses definitions in one worker thread, or in-thread when it has no script. */
export class DefinitionParser {
  constructor(options: DefinitionParser.IOptions = {}) {
    this._script = options.workerScript === undefined ? DefinitionParser.defaultScript() : options.workerScript;
    this._timeoutMs = options.timeoutMs ?? 120_000;
    this._memoryMb = options.maxMemoryMb ?? 1024;
  }

  /** True when parsing runs in a worker thread. */
  get inWorker(): boolean {
    return this._script !== null;
  }

  /** Parse one definition; never rejects (a failure is an issue on the file). */
  parse(req: IParseRequest): Promise<IParsedDefinition> {
    if (this._script === null) {
      return Promise.resolve(parseDefinition(req));
    }
    const worker = this._worker ?? this._spawn(this._script);
    const id = ++this._seq;
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        // A parse this slow is a hostile file; a fresh worker serves the next.
        this._fail(`took longer than ${this._timeoutMs / 1000} s to read`);
      }, this._timeoutMs);
      timer.unref();
      this._pending.set(id, { resolve, timer });
      worker.ref(); // a pending parse keeps a CLI run (meow validate) alive
      worker.postMessage({ id, req });
    });
  }

  /** Stop the worker; pending parses resolve with an issue. */
  async close(): Promise<void> {
    const worker = this._worker;
    this._fail('was not read: the service is stopping');
    await worker?.terminate();
  }

  private _spawn(script: string): Worker {
    const worker = new Worker(script, {
      // Out of memory ends the worker, not the service.
      resourceLimits: { maxOldGenerationSizeMb: this._memoryMb }
    });
    worker.unref();
    worker.on('message', (msg: { id: number; result: unknown }) => {
      const pending = this._pending.get(msg.id);
      if (pending) {
        this._pending.delete(msg.id);
        clearTimeout(pending.timer);
        pending.resolve(decode(msg.result));
      }
      if (this._pending.size === 0) {
        worker.unref();
      }
    });
    worker.on('error', err => {
      const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this._fail(
        oom ? `needs more than ${this._memoryMb} MB of memory to read` : `could not be read: ${err.message}`,
        worker
      );
    });
    worker.on('exit', () => this._fail('could not be read: the parser stopped', worker));
    this._worker = worker;
    return worker;
  }

  /** Resolve every pending parse with `message` and drop the worker. */
  private _fail(message: string, which?: Worker): void {
    if (which && which !== this._worker) {
      return;
    }
    const worker = this._worker;
    this._worker = undefined;
    void worker?.terminate();
    for (const [id, pending] of this._pending) {
      this._pending.delete(id);
      clearTimeout(pending.timer);
      pending.resolve({
        issues: [
          issue(FILE_FIELD, message, 'make the file smaller and simpler (definitions are small YAML or notebook files)')
        ],
        warnings: []
      });
    }
  }

  private readonly _script: string | null;
  private readonly _timeoutMs: number;
  private readonly _memoryMb: number;
  private readonly _pending = new Map<number, IPending>();
  private _worker?: Worker;
  private _seq = 0;
}

export namespace DefinitionParser {
  export interface IOptions {
    /**
     * The worker's script (definitionWorker.ts built to JavaScript).
     * Default: `defaultScript()`; `null` parses in-thread.
     */
    workerScript?: string | null;
    /** Give up on one file after this long (default 120 s). */
    timeoutMs?: number;
    /** Heap limit of the worker in MB (default 1024). */
    maxMemoryMb?: number;
  }

  /** `definitionWorker.js` beside this module's file when it is there, else null (in-thread). */
  export function defaultScript(): string | null {
    const script = path.join(path.dirname(__filename), WORKER_SCRIPT);
    return __filename.endsWith('.js') && existsSync(script) ? script : null;
  }
}
