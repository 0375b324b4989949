/**
 * The building blocks of the pattern form: a labelled field with its help
 * and errors, one-line text fields, and the editable rows of parameters,
 * outputs and sweeps.
 */
import * as React from 'react';

import { FIELD_HELP, IPatternForm, ISweepRow, IVariableRow } from '../patternForm';

/** The errors the form shows for a field key (only touched fields, or all after a save attempt). */
export type FieldErrors = (key: string) => string[] | undefined;

/** Apply a change to the form (and mark its fields touched). */
export type FormUpdate = (patch: Partial<IPatternForm>) => void;

export function Field(props: {
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

export function VariableRows(props: {
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
          <div
            key={i}
            className={`jp-meow-row${errors.length ? ' jp-mod-invalid' : ''}`}
            data-meow-row={`${section}.${i}`}
          >
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

export function SweepRows(props: {
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
export function TextField(props: {
  name: keyof IPatternForm & string;
  label: string;
  placeholder?: string;
  help?: string;
  type?: 'text' | 'password';
  form: IPatternForm;
  update: FormUpdate;
  errs: FieldErrors;
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
