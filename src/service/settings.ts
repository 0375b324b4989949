/**
 * Service settings (workers, settle time, job timeout), stored in
 * `<workgroup>/<state>/settings.yaml` so they belong to the workgroup and can
 * be edited from the UI (PUT /api/settings) or by hand.
 *
 * Precedence: built-in defaults < settings.yaml < options given explicitly
 * on the command line.
 */
import * as path from 'path';
import * as YAML from 'yaml';
import type { IServiceSettings } from '../core/api';
import { validateServiceSettings } from '../core/api';
import type { IValidationIssue } from '../core/validation';
import type { IExecutorSettings } from '../core/executor';
import { EXECUTOR_SETTINGS_KEYS, validateExecutorSettings } from '../core/executor';
import { readIfExists, writeFileAtomic } from './fsutil';
import { promises as fs } from 'fs';

export const SETTINGS_FILE = 'settings.yaml';

export class SettingsFile {
  constructor(root: string, stateDir = '.meow') {
    this.path = path.join(path.resolve(root), stateDir, SETTINGS_FILE);
  }

  /** Absolute path of settings.yaml. */
  readonly path: string;

  /**
   * Read the file. A missing file is no settings; an invalid one yields the
   * valid fields and issues for the rest (never throws for bad content).
   */
  async load(): Promise<{
    settings: Partial<IServiceSettings>;
    executor: IExecutorSettings;
    issues: IValidationIssue[];
  }> {
    const text = await readIfExists(this.path);
    if (text === undefined) {
      return { settings: {}, executor: {}, issues: [] };
    }
    let data: unknown;
    try {
      data = YAML.parse(text);
    } catch (err) {
      return {
        settings: {},
        executor: {},
        issues: [
          {
            field: '(file)',
            message: `is not valid YAML: ${(err as Error).message}`,
            fix: 'correct the YAML, or delete the file to use the defaults'
          }
        ]
      };
    }
    // Executors (`executor`, `slurm`, `jupyter`) are read by their own checks.
    const rest =
      data && typeof data === 'object' && !Array.isArray(data)
        ? Object.fromEntries(
            Object.entries(data).filter(([k]) => !(EXECUTOR_SETTINGS_KEYS as readonly string[]).includes(k))
          )
        : data;
    const service = validateServiceSettings(rest);
    const executor = validateExecutorSettings(data);
    return { settings: service.settings, executor: executor.settings, issues: [...service.issues, ...executor.issues] };
  }

  /** Write the complete settings atomically; the executor part on file is kept. */
  async save(settings: IServiceSettings): Promise<void> {
    await fs.mkdir(path.dirname(this.path), { recursive: true });
    const kept = await this._executorPart();
    const text =
      '# meow service settings (edited by the MEOW panels or by hand)\n' +
      YAML.stringify({
        workers: settings.workers,
        settleMs: settings.settleMs,
        timeoutSeconds: settings.timeoutSeconds,
        ...kept
      });
    await writeFileAtomic(this.path, text);
  }

  /** `executor`, `slurm`, `jupyter` as on file, kept verbatim (even when invalid: the person fixes them). */
  private async _executorPart(): Promise<Record<string, unknown>> {
    try {
      const data = YAML.parse((await readIfExists(this.path)) ?? '');
      if (data && typeof data === 'object' && !Array.isArray(data)) {
        return Object.fromEntries(
          Object.entries(data).filter(([k]) => (EXECUTOR_SETTINGS_KEYS as readonly string[]).includes(k))
        );
      }
    } catch {
      // not YAML: nothing to keep
    }
    return {};
  }

  /** One line per issue, for logs. */
  static describe(issues: IValidationIssue[], file: string): string {
    return issues.map(i => `${file}: field "${i.field}" ${i.message}; ${i.fix}`).join('\n');
  }
}
