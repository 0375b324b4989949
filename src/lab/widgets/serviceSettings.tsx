/**
 * The service settings of the Workflow panel (workers, settle time,
 * timeout), checked by the same validation the service applies and saved to
 * `.meow/settings.yaml`.
 */
import * as React from 'react';

import { IServiceSettings, SETTINGS_LIMITS, validateServiceSettings } from '../../core/api';
import type { IMeow } from '../tokens';

export function ServiceSettings(props: { meow: IMeow }): JSX.Element {
  const status = props.meow.status.status;
  const [draft, setDraft] = React.useState<Record<string, string> | null>(null);
  const [message, setMessage] = React.useState('');
  const current = status?.settings ?? null;
  if (!current) {
    return <div className="jp-meow-muted">Service settings are shown when the service is up.</div>;
  }
  const keys = Object.keys(SETTINGS_LIMITS) as (keyof IServiceSettings)[];
  const values: Record<string, string> = draft ?? Object.fromEntries(keys.map(k => [k, String(current[k])]));
  const parsed: Record<string, unknown> = Object.fromEntries(
    keys.map(k => [k, values[k].trim() === '' ? NaN : Number(values[k])])
  );
  // The same validation the service applies.
  const { issues } = validateServiceSettings(parsed);
  const save = async () => {
    try {
      const result = await props.meow.client.saveSettings(parsed as Partial<IServiceSettings>);
      setDraft(null);
      setMessage(
        'Saved to .meow/settings.yaml.' +
          (result?.restartRequired?.length
            ? ` ${result.restartRequired.join(', ')} applies after the service restarts.`
            : '')
      );
      void props.meow.status.refresh();
    } catch (err) {
      setMessage((err as Error).message);
    }
  };
  return (
    <div className="jp-meow-settings" data-testid="meow-service-settings">
      {keys.map(k => {
        const problem = issues.find(i => i.field === k);
        return (
          <label key={k} className="jp-meow-setting" title={SETTINGS_LIMITS[k].help}>
            <span>{k}</span>
            <input
              type="number"
              min={SETTINGS_LIMITS[k].min}
              max={SETTINGS_LIMITS[k].max}
              className="jp-mod-styled"
              data-meow-setting={k}
              value={values[k]}
              onChange={e => setDraft({ ...values, [k]: e.target.value })}
            />
            {problem && <span className="jp-meow-fieldError">{problem.message}</span>}
          </label>
        );
      })}
      <button
        className="jp-Button jp-mod-styled jp-mod-accept"
        disabled={!draft || issues.length > 0}
        onClick={() => void save()}
      >
        Save settings
      </button>
      {message && <div className="jp-meow-muted">{message}</div>}
    </div>
  );
}
