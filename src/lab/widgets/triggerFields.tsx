/**
 * The pattern form's sections that change with a choice: the fields of the
 * chosen trigger kind, and where the jobs run with what resources.
 */
import * as React from 'react';

import { formatSize } from '../../core/pattern';
import {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_NETWORK_HOST,
  FILE_EVENT_KINDS
} from '../../core/types';
import { EXECUTOR_CHOICES, FIELD_HELP, IPatternForm, RESOURCE_FIELDS } from '../patternForm';
import { Field, FieldErrors, FormUpdate, TextField } from './formFields';

/** The fields of the chosen trigger kind. */
export function TriggerFields(props: {
  form: IPatternForm;
  update: FormUpdate;
  errs: FieldErrors;
}): JSX.Element | null {
  const { form, update, errs } = props;
  const text = (
    name: keyof IPatternForm & string,
    label: string,
    placeholder?: string,
    extra: { help?: string; type?: 'password' } = {}
  ) => (
    <TextField name={name} label={label} placeholder={placeholder} form={form} update={update} errs={errs} {...extra} />
  );
  const missed = (
    <Field id="missed" label="Missed firings" help={FIELD_HELP.missed} errors={errs('missed')}>
      <select
        id="jp-meow-pattern-missed"
        data-testid="meow-pattern-missed"
        className="jp-mod-styled"
        value={form.missed}
        onChange={e => update({ missed: e.target.value as IPatternForm['missed'] })}
      >
        <option value="once">run once when meow starts</option>
        <option value="skip">skip them</option>
      </select>
    </Field>
  );
  switch (form.trigger) {
    case 'path':
      return (
        <>
          {text('path', 'Path glob', 'start/*')}
          <Field id="events" label="Events" help={FIELD_HELP.events} errors={errs('events')}>
            <div className="jp-meow-checks">
              {FILE_EVENT_KINDS.map(k => (
                <label key={k}>
                  <input
                    type="checkbox"
                    data-testid={`meow-event-${k}`}
                    checked={form.events.includes(k)}
                    onChange={e =>
                      update({
                        events: e.target.checked
                          ? FILE_EVENT_KINDS.filter(x => x === k || form.events.includes(x))
                          : form.events.filter(x => x !== k)
                      })
                    }
                  />
                  {k}
                </label>
              ))}
            </div>
          </Field>
          <Field id="glob" label="Glob syntax" help={FIELD_HELP.glob} errors={errs('glob')}>
            <select
              id="jp-meow-pattern-glob"
              data-testid="meow-pattern-glob"
              className="jp-mod-styled"
              value={form.format === 'thesis' ? 'fnmatch' : form.glob}
              disabled={form.format === 'thesis'}
              onChange={e => update({ glob: e.target.value as IPatternForm['glob'] })}
            >
              <option value="native">native: * within a folder, dot files only when named</option>
              <option value="fnmatch">fnmatch (as mig_meow): * and ? also match / and dot files</option>
            </select>
          </Field>
        </>
      );
    case 'port':
      return (
        <>
          {text('port', 'Port', '9000')}
          {text('host', 'Listen address', `${DEFAULT_NETWORK_HOST} (default)`)}
          {text('secret', 'Shared secret', 'none', { type: 'password' })}
          <div className="jp-meow-fieldPair">
            {text('tlsCert', 'TLS certificate', 'none: plain TCP')}
            {text('tlsKey', 'TLS key', 'key.pem')}
          </div>
          <div className="jp-meow-fieldPair">
            {text('maxBytes', 'Largest message', `${formatSize(DEFAULT_MAX_PAYLOAD_BYTES)} (default)`)}
            {text('maxConnections', 'Connections at once', `${DEFAULT_MAX_CONNECTIONS} (default)`)}
          </div>
        </>
      );
    case 'schedule':
      return (
        <>
          {text('schedule', 'Cron expression', '*/10 * * * *')}
          {text('timezone', 'Time zone', "the machine's")}
          {missed}
        </>
      );
    case 'every':
      return (
        <>
          {text('every', 'Every', '30s')}
          {missed}
        </>
      );
    case 'manual':
      return text('path', 'Files waiting for approval (optional glob)', 'review/*', { help: FIELD_HELP.manualPath });
    case 'absent':
      return (
        <>
          {text('path', 'Watched glob', 'in/*', { help: FIELD_HELP.absentPath })}
          {text('absentFor', 'Silence lasting', '10m')}
        </>
      );
  }
  return null;
}

/**
 * Where the jobs run and what they ask for: the executor, and the resources
 * in a section that opens by itself when some are set or one is wrong.
 */
export function ExecutionFields(props: {
  form: IPatternForm;
  update: FormUpdate;
  errs: FieldErrors;
  /** The resources as the core read them (valid form only), for the summary. */
  resources: string | undefined;
}): JSX.Element {
  const { form, update, errs } = props;
  const anySet = RESOURCE_FIELDS.some(k => form[k].trim() !== '');
  const anyError = RESOURCE_FIELDS.some(k => errs(k)?.length) || !!errs('resources')?.length;
  const [open, setOpen] = React.useState(anySet);
  // Opened for a wrong value, it stays open once the value is fixed.
  React.useEffect(() => {
    if (anyError) {
      setOpen(true);
    }
  }, [anyError]);
  const text = (name: (typeof RESOURCE_FIELDS)[number], label: string, placeholder: string) => (
    <TextField name={name} label={label} placeholder={placeholder} form={form} update={update} errs={errs} />
  );
  const summary = anyError ? 'see the fields below' : anySet ? props.resources || '' : 'none asked';
  return (
    <>
      <Field id="executor" label="Executor" help={FIELD_HELP.executor} errors={errs('executor')}>
        <select
          id="jp-meow-pattern-executor"
          data-testid="meow-pattern-executor"
          className="jp-mod-styled"
          value={form.executor}
          onChange={e => update({ executor: e.target.value as IPatternForm['executor'] })}
        >
          {EXECUTOR_CHOICES.map(c => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
      </Field>
      <details
        className={`jp-meow-resources${anyError ? ' jp-mod-invalid' : ''}`}
        data-testid="meow-pattern-resources"
        open={open || anyError}
        onToggle={e => setOpen((e.currentTarget as HTMLDetailsElement).open)}
      >
        <summary>
          Resources <span className="jp-meow-resourcesSummary">{summary}</span>
        </summary>
        <div className="jp-meow-fieldHelp">{FIELD_HELP.resources}</div>
        {errs('resources')?.map((e, i) => (
          <div key={i} className="jp-meow-fieldError" data-testid="meow-error-resources">
            {e}
          </div>
        ))}
        <div className="jp-meow-fieldPair">
          {text('cpus', 'CPUs', 'e.g. 4')}
          {text('memory', 'Memory', 'e.g. 8GB')}
          {text('gpus', 'GPUs', 'e.g. 1')}
        </div>
        <div className="jp-meow-fieldPair">
          {text('time', 'Time limit', 'e.g. 2h')}
          {text('partition', 'Partition', 'default')}
        </div>
        {text('extraArgs', 'Extra scheduler options', 'e.g. --qos=high')}
      </details>
    </>
  );
}
