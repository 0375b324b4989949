/**
 * Create or edit a pattern: a form with every field of the spec (or the raw
 * YAML), validated live by the core on every keystroke.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import type { IPatternInfo, IRecipeInfo } from '../../core/api';
import { describeResources } from '../../core/executor';
import { parsePattern } from '../../core/pattern';
import { formatSize } from '../../core/pattern';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NETWORK_HOST, FILE_EVENT_KINDS } from '../../core/types';
import { MeowApiError } from '../client';
import {
  EXECUTOR_CHOICES,
  FIELD_HELP,
  IPatternForm,
  RESOURCE_FIELDS,
  ISweepRow,
  IVariableRow,
  TRIGGER_CHOICES,
  TriggerChoice,
  emptyForm,
  formFromPattern,
  validateForm
} from '../patternForm';
import type { WorkflowModel } from '../models';
import { confirmPatternSave } from '../saveEffect';

export interface IPatternEditorProps {
  workflow: WorkflowModel;
  /** The pattern being edited; undefined for a new one. */
  editing?: IPatternInfo;
  /** Prefill for a new pattern (e.g. the recipe). */
  initial?: Partial<IPatternForm>;
  onClose: () => void;
}

function Field(props: {
  id: string;
  label: string;
  help?: string;
  errors?: string[];
  children: React.ReactNode;
}): JSX.Element {
  const errors = props.errors ?? [];
  return (
    <div className={`jp-meow-field${errors.length ? ' jp-mod-invalid' : ''}`} data-meow-field={props.id}>
      <label className="jp-meow-fieldLabel" htmlFor={`jp-meow-pattern-${props.id}`}>
        {props.label}
      </label>
      {props.children}
      {props.help && <div className="jp-meow-fieldHelp">{props.help}</div>}
      {errors.map((e, i) => (
        <div key={i} className="jp-meow-fieldError" data-testid={`meow-error-${props.id}`}>
          {e}
        </div>
      ))}
    </div>
  );
}

function VariableRows(props: {
  section: 'parameters' | 'outputs';
  rows: IVariableRow[];
  byField: Record<string, string[]>;
  onChange: (rows: IVariableRow[]) => void;
}): JSX.Element {
  const { section, rows, byField, onChange } = props;
  const set = (i: number, patch: Partial<IVariableRow>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div className="jp-meow-rows" data-testid={`meow-${section}`}>
      {rows.map((row, i) => {
        const errors = byField[`${section}.${row.name.trim()}`] ?? [];
        return (
          <div key={i} className={`jp-meow-row${errors.length ? ' jp-mod-invalid' : ''}`} data-meow-row={`${section}.${i}`}>
            <input
              className="jp-mod-styled jp-meow-rowName"
              placeholder="variable"
              aria-label={`${section} ${i + 1} name`}
              value={row.name}
              onChange={e => set(i, { name: e.target.value })}
            />
            <span className="jp-meow-rowEq">=</span>
            <input
              className="jp-mod-styled jp-meow-rowValue"
              placeholder={section === 'outputs' ? '{VGRID}/out/{FILENAME}' : 'value (YAML)'}
              aria-label={`${section} ${i + 1} value`}
              value={row.value}
              onChange={e => set(i, { value: e.target.value })}
            />
            <RowEnd errors={errors} onRemove={() => onChange(rows.filter((_, j) => j !== i))} />
          </div>
        );
      })}
      <button
        className="jp-Button jp-mod-styled jp-mod-reject jp-meow-addRow"
        data-testid={`meow-add-${section}`}
        onClick={() => onChange([...rows, { name: '', value: '' }])}
      >
        + Add {section === 'parameters' ? 'parameter' : 'output'}
      </button>
    </div>
  );
}

/** The end of an editable row: its remove button and its field errors. */
function RowEnd(props: { errors: string[]; onRemove: () => void }): JSX.Element {
  return (
    <>
      <button className="jp-Button jp-mod-minimal jp-meow-rowRemove" title="Remove" onClick={props.onRemove}>
        ✕
      </button>
      {props.errors.map((e, k) => (
        <div key={k} className="jp-meow-fieldError">
          {e}
        </div>
      ))}
    </>
  );
}

function SweepRows(props: {
  rows: ISweepRow[];
  byField: Record<string, string[]>;
  onChange: (rows: ISweepRow[]) => void;
}): JSX.Element {
  const { rows, byField, onChange } = props;
  const set = (i: number, patch: Partial<ISweepRow>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div className="jp-meow-rows" data-testid="meow-sweep">
      {rows.map((row, i) => {
        const errors = byField[`sweep.${row.name.trim()}`] ?? [];
        return (
          <div key={i} className={`jp-meow-row${errors.length ? ' jp-mod-invalid' : ''}`} data-meow-row={`sweep.${i}`}>
            <input
              className="jp-mod-styled jp-meow-rowName"
              placeholder="variable"
              aria-label={`sweep ${i + 1} name`}
              value={row.name}
              onChange={e => set(i, { name: e.target.value })}
            />
            {(['start', 'stop', 'step'] as const).map(k => (
              <input
                key={k}
                className="jp-mod-styled jp-meow-rowNumber"
                placeholder={k}
                aria-label={`sweep ${i + 1} ${k}`}
                value={row[k]}
                onChange={e => set(i, { [k]: e.target.value })}
              />
            ))}
            <RowEnd errors={errors} onRemove={() => onChange(rows.filter((_, j) => j !== i))} />
          </div>
        );
      })}
      <button
        className="jp-Button jp-mod-styled jp-mod-reject jp-meow-addRow"
        data-testid="meow-add-sweep"
        onClick={() => onChange([...rows, { name: '', start: '1', stop: '3', step: '1' }])}
      >
        + Add sweep
      </button>
    </div>
  );
}

/** A one-line text field of the form, bound to `form[name]`. */
function TextField(props: {
  name: keyof IPatternForm & string;
  label: string;
  placeholder?: string;
  help?: string;
  type?: 'text' | 'password';
  form: IPatternForm;
  update: (patch: Partial<IPatternForm>) => void;
  errs: (key: string) => string[] | undefined;
}): JSX.Element {
  const { name, form } = props;
  return (
    <Field id={name} label={props.label} help={props.help ?? FIELD_HELP[name]} errors={props.errs(name)}>
      <input
        id={`jp-meow-pattern-${name}`}
        data-testid={`meow-pattern-${name}`}
        className="jp-mod-styled"
        type={props.type ?? 'text'}
        autoComplete="off"
        spellCheck={false}
        value={form[name] as string}
        placeholder={props.placeholder}
        onChange={e => props.update({ [name]: e.target.value } as Partial<IPatternForm>)}
      />
    </Field>
  );
}

/** The fields of the chosen trigger kind. */
function TriggerFields(props: {
  form: IPatternForm;
  update: (patch: Partial<IPatternForm>) => void;
  errs: (key: string) => string[] | undefined;
}): JSX.Element | null {
  const { form, update, errs } = props;
  const text = (name: keyof IPatternForm & string, label: string, placeholder?: string, extra: { help?: string; type?: 'password' } = {}) => (
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
function ExecutionFields(props: {
  form: IPatternForm;
  update: (patch: Partial<IPatternForm>) => void;
  errs: (key: string) => string[] | undefined;
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

function initialForm(props: IPatternEditorProps): IPatternForm {
  if (props.editing?.pattern) {
    return formFromPattern(props.editing.pattern);
  }
  const f = { ...emptyForm(), ...props.initial };
  if (props.editing) {
    f.name = props.editing.name;
  }
  return f;
}

export function PatternEditor(props: IPatternEditorProps): JSX.Element {
  const { workflow, editing } = props;
  const [form, setForm] = React.useState<IPatternForm>(() => initialForm(props));
  // An unreadable file opens in YAML mode.
  const [mode, setMode] = React.useState<'form' | 'yaml'>(editing && !editing.pattern ? 'yaml' : 'form');
  const [text, setText] = React.useState<string>(editing?.text ?? '');
  const [saving, setSaving] = React.useState(false);
  const [serverError, setServerError] = React.useState<string[]>([]);
  const box = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    box.current?.scrollIntoView?.({ block: 'nearest' });
    box.current?.querySelector<HTMLInputElement>('input, textarea')?.focus();
  }, []);

  const recipes: readonly IRecipeInfo[] = workflow.recipes;
  const existing = workflow.patterns.map(p => p.name);
  const validation = React.useMemo(
    () => validateForm(form, { recipes, existing, editing: editing?.name }),
    [form, recipes, existing.join('\n'), editing?.name]
  );
  const yamlCheck = React.useMemo(() => (mode === 'yaml' ? parsePattern(form.name.trim(), text) : null), [mode, form.name, text]);

  const update = (patch: Partial<IPatternForm>) => {
    setForm(f => ({ ...f, ...patch }));
    setServerError([]);
  };
  const errs = (key: string) => validation.byField[key];

  const switchMode = (to: 'form' | 'yaml') => {
    if (to === mode) {
      return;
    }
    if (to === 'yaml') {
      setText(validation.yaml ?? editing?.text ?? '');
    } else if (yamlCheck?.pattern) {
      setForm(formFromPattern(yamlCheck.pattern));
    }
    setMode(to);
  };

  const canSave = !saving && (mode === 'form' ? !!validation.yaml : !!yamlCheck && yamlCheck.issues.length === 0);

  const save = async () => {
    const name = form.name.trim();
    const body = mode === 'form' ? validation.yaml! : text;
    if (name !== editing?.name && existing.includes(name)) {
      const answer = await showDialog({
        title: 'Replace pattern?',
        body: `A pattern named "${name}" already exists. Replace it? Its unfinished jobs are cancelled.`,
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Replace' })]
      });
      if (!answer.button.accept) {
        return;
      }
    }
    // An edit that changes the pattern's work re-runs it: say so first.
    if (editing && editing.name === name && !(await confirmPatternSave(workflow, name, body))) {
      return;
    }
    setSaving(true);
    try {
      await workflow.savePattern(name, body);
      if (editing && editing.name !== name) {
        // Renaming = create the new pattern, delete the old one (P7).
        await workflow.deletePattern(editing.name);
      }
      props.onClose();
    } catch (err) {
      const e = err as Error;
      const lines = [e.message];
      if (err instanceof MeowApiError) {
        lines.push(...err.issues!.map(i => `${i.field}: ${i.message}; ${i.fix}`));
      }
      setServerError(lines);
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="jp-meow-PatternEditor" data-testid="meow-pattern-editor" ref={box}>
      <div className="jp-meow-editorHeader">
        <h3>{editing ? `Edit pattern ${editing.name}` : 'New pattern'}</h3>
        <div className="jp-meow-modeSwitch" role="tablist">
          <button role="tab" aria-selected={mode === 'form'} className={mode === 'form' ? 'jp-mod-active' : ''} onClick={() => switchMode('form')}>
            Form
          </button>
          <button
            role="tab"
            aria-selected={mode === 'yaml'}
            className={mode === 'yaml' ? 'jp-mod-active' : ''}
            data-testid="meow-mode-yaml"
            onClick={() => switchMode('yaml')}
          >
            YAML
          </button>
        </div>
      </div>

      <Field id="name" label="Name" help={FIELD_HELP.name} errors={errs('name')}>
        <input
          id="jp-meow-pattern-name"
          data-testid="meow-pattern-name"
          className="jp-mod-styled"
          value={form.name}
          placeholder="Pattern_One"
          onChange={e => update({ name: e.target.value })}
        />
      </Field>

      {mode === 'yaml' ? (
        <Field
          id="yaml"
          label="Pattern file"
          help="Native or thesis (mig_meow) format; validated as you type."
          errors={yamlCheck?.issues.filter(i => i.field !== 'name').map(i => `${i.field}: ${i.message}; ${i.fix}`)}
        >
          <textarea
            id="jp-meow-pattern-yaml"
            data-testid="meow-pattern-yaml"
            className="jp-mod-styled jp-meow-yaml"
            rows={14}
            spellCheck={false}
            value={text}
            onChange={e => {
              setText(e.target.value);
              setServerError([]);
            }}
          />
        </Field>
      ) : (
        <>
          <Field id="recipe" label="Recipe" help={FIELD_HELP.recipe} errors={errs('recipe')}>
            <select
              id="jp-meow-pattern-recipe"
              data-testid="meow-pattern-recipe"
              className="jp-mod-styled"
              value={form.recipe}
              onChange={e => update({ recipe: e.target.value })}
            >
              <option value="">— choose a recipe —</option>
              {recipes.map(r => (
                <option key={r.name} value={r.name}>
                  {r.name}
                </option>
              ))}
              {form.recipe && !recipes.some(r => r.name === form.recipe) && (
                <option value={form.recipe}>{form.recipe} (not registered)</option>
              )}
            </select>
          </Field>

          <Field id="trigger" label="Trigger" help={FIELD_HELP.trigger} errors={errs('trigger')}>
            <select
              id="jp-meow-pattern-trigger"
              data-testid="meow-pattern-trigger"
              className="jp-mod-styled"
              value={form.trigger}
              onChange={e => update({ trigger: e.target.value as TriggerChoice })}
            >
              {TRIGGER_CHOICES.map(c => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          </Field>

          <TriggerFields form={form} update={update} errs={errs} />

          <Field id="input" label="Input variable" help={FIELD_HELP.input} errors={errs('input')}>
            <input
              id="jp-meow-pattern-input"
              data-testid="meow-pattern-input"
              className="jp-mod-styled"
              value={form.input}
              placeholder="infile"
              list="jp-meow-recipe-variables"
              onChange={e => update({ input: e.target.value })}
            />
            <datalist id="jp-meow-recipe-variables">
              {(recipes.find(r => r.name === form.recipe)?.variables ?? []).map(v => (
                <option key={v} value={v} />
              ))}
            </datalist>
          </Field>

          <Field id="parameters" label="Parameters" help={FIELD_HELP.parameters} errors={errs('parameters')}>
            <VariableRows section="parameters" rows={form.parameters} byField={validation.byField} onChange={rows => update({ parameters: rows })} />
          </Field>
          <Field id="outputs" label="Outputs" help={FIELD_HELP.outputs} errors={errs('outputs')}>
            <VariableRows section="outputs" rows={form.outputs} byField={validation.byField} onChange={rows => update({ outputs: rows })} />
          </Field>
          <Field id="sweep" label="Sweeps" help={FIELD_HELP.sweep} errors={errs('sweep')}>
            <SweepRows rows={form.sweep} byField={validation.byField} onChange={rows => update({ sweep: rows })} />
          </Field>
          <ExecutionFields form={form} update={update} errs={errs} resources={describeResources(validation.pattern?.resources)} />
          {errs('form') && (
            <div className="jp-meow-fieldError" data-testid="meow-error-form">
              {errs('form').join(' ')}
            </div>
          )}
        </>
      )}

      {validation.warnings.length > 0 && mode === 'form' && (
        <ul className="jp-meow-warnings" data-testid="meow-pattern-warnings">
          {validation.warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      )}
      {serverError.length > 0 && (
        <div className="jp-meow-serverError" data-testid="meow-pattern-server-error">
          {serverError.map((l, i) => (
            <div key={i}>{l}</div>
          ))}
        </div>
      )}
      {mode === 'form' && validation.yaml && (
        <details className="jp-meow-preview">
          <summary>File preview</summary>
          <pre data-testid="meow-pattern-preview">{validation.yaml}</pre>
        </details>
      )}
      <div className="jp-meow-editorButtons">
        <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={props.onClose} data-testid="meow-pattern-cancel">
          Cancel
        </button>
        <button className="jp-Button jp-mod-styled jp-mod-accept" disabled={!canSave} onClick={() => void save()} data-testid="meow-pattern-save">
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
    </div>
  );
}
