/**
 * The hostile-input catalogue's harness: one runner (scripted conductor, no
 * Jupyter) on a workgroup with a valid pattern `Good` (`good/*` → Copy).
 * Each entry feeds one hostile input, checks the message (file and field),
 * then checks that the service still handles `Good`'s files and that no
 * other job was affected.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import { Script, ScriptedConductor } from '../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, until, writeFile } from '../../helpers/workgroup';

export const copy: Script = async (p, io) => {
  const text = await fs.readFile(p.infile, 'utf8');
  await io.write(p.outfile, text);
};

export const GOOD_PATTERN =
  'recipe: Copy\ntrigger: {path: "good/*"}\ninput: infile\noutputs:\n  outfile: "{VGRID}/good_out/{FILENAME}"\n';
export const COPY_RECIPE = recipeNotebook({ infile: "''", outfile: "''" });

export class Catalogue {
  root = '';
  runner!: MeowRunner;
  log = new RecordingLogger();
  conductor!: ScriptedConductor;
  private _good = 0;

  async start(files: Record<string, string> = {}, scripts: Record<string, Script> = {}): Promise<void> {
    this.root = await makeWorkgroup({
      '.meow/recipes/Copy.ipynb': COPY_RECIPE,
      '.meow/patterns/Good.yaml': GOOD_PATTERN,
      ...files
    });
    this.conductor = new ScriptedConductor({ Copy: copy, ...scripts });
    this.runner = new MeowRunner({
      root: this.root,
      workers: 1,
      settleMs: 30,
      conductor: this.conductor,
      log: this.log
    });
    await this.runner.start();
    await this.stillServing();
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    await removeWorkgroup(this.root);
  }

  abs(rel: string): string {
    return path.join(this.root, rel);
  }

  /** Write a file (text or bytes) below the workgroup. */
  async write(rel: string, data: string | Uint8Array): Promise<void> {
    await fs.mkdir(path.dirname(this.abs(rel)), { recursive: true });
    await fs.writeFile(this.abs(rel), data);
  }

  /** The problem reported for a definition file, once the state monitor has it. */
  async problem(rel: string, ms = 20000): Promise<string> {
    await until(() => this.runner.stateMonitor.problems.has(rel), ms, `a problem for ${rel}`);
    return this.runner.stateMonitor.problems.get(rel)!;
  }

  /**
   * The problem reported for a definition file once it matches `expected`:
   * a big file read while still being written is judged as it was then,
   * and judged again when the write has finished.
   */
  async problemMatching(rel: string, expected: RegExp, ms = 20000): Promise<string> {
    await until(
      () => expected.test(this.runner.stateMonitor.problems.get(rel) ?? ''),
      ms,
      `a problem for ${rel} matching ${expected}`
    );
    return this.runner.stateMonitor.problems.get(rel)!;
  }

  /** The warnings for a definition file, once reported. */
  async warning(rel: string, ms = 20000): Promise<string> {
    await until(() => this.runner.stateMonitor.warnings.has(rel), ms, `a warning for ${rel}`);
    return this.runner.stateMonitor.warnings.get(rel)!;
  }

  /** Logged lines (any level) that contain `text`. */
  logged(text: string): string[] {
    return this.log.lines.filter(l => l.message.includes(text)).map(l => `${l.level}: ${l.message}`);
  }

  /**
   * The service still works: a new file for `Good` gets exactly one job that
   * finishes `done`, and every earlier `Good` job is still `done` (none
   * re-ran, failed or was cancelled by the hostile input).
   */
  async stillServing(ms = 20000): Promise<void> {
    const rel = `good/g${++this._good}.txt`;
    await writeFile(this.root, rel, `content ${this._good}\n`);
    await until(
      () => this.runner.store.list().some(j => j.trigger.path === rel && j.status === 'done'),
      ms,
      `a done job for ${rel}`
    );
    const good = this.runner.store.list().filter(j => j.pattern === 'Good');
    expect(good.map(j => j.status)).toEqual(good.map(() => 'done'));
    expect(new Set(good.map(j => j.trigger.path)).size).toBe(good.length);
    expect(await fs.readFile(this.abs(`good_out/g${this._good}.txt`), 'utf8')).toBe(`content ${this._good}\n`);
  }
}
