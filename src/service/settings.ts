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
  async load(): Promise<{ settings: Partial<IServiceSettings>; issues: IValidationIssue[] }> {
    const text = await readIfExists(this.path);
    if (text === undefined) {
      return { settings: {}, issues: [] };
    }
    let data: unknown;
    try {
      data = YAML.parse(text);
    } catch (err) {
      return {
        settings: {},
        issues: [
          {
            field: '(file)',
            message: `is not valid YAML: ${(err as Error).message}`,
            fix: 'correct the YAML, or delete the file to use the defaults'
          }
        ]
      };
    }
    return validateServiceSettings(data);
  }

  /** Write the complete settings atomically. */
  async save(settings: IServiceSettings): Promise<void> {
    await fs.mkdir(path.dirname(this.path), { recursive: true });
    const text =
      '# meow service settings (edited by the MEOW panels or by hand)\n' +
      YAML.stringify({
        workers: settings.workers,
        settleMs: settings.settleMs,
        timeoutSeconds: settings.timeoutSeconds
      });
    await writeFileAtomic(this.path, text);
  }

  /** One line per issue, for logs. */
  static describe(issues: IValidationIssue[], file: string): string {
    return issues.map(i => `${file}: field "${i.field}" ${i.message}; ${i.fix}`).join('\n');
  }
}
