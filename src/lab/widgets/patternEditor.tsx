/**
 * Create or edit a pattern: a form with every field of the spec (or the raw
 * YAML in the Lab's code editor), validated live by the core on every
 * keystroke. Errors show on the fields the user changed, and on all of them
 * after a save attempt, so a fresh form does not open covered in red.
 */
import type { CodeEditor } from '@jupyterlab/codeeditor';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import type { IPatternInfo, IRecipeInfo } from '../../core/api';
import { describeResources } from '../../core/executor';
import { parsePattern } from '../../core/pattern';
import { MeowApiError } from '../client';
import type { WorkflowModel } from '../models';
import {
  FIELD_HELP,
  IFormValidation,
  IPatternForm,
  TRIGGER_CHOICES,
  TriggerChoice,
  formFromPattern,
  newForm,
  validateForm,
  visibleErrors
} from '../patternForm';
import { confirmPatternSave } from '../saveEffect';
import { Field, FieldErrors, FormUpdate, SweepRows, VariableRows } from './formFields';
import { ExecutionFields, TriggerFields } from './triggerFields';
import { YamlEditor } from './yamlEditor';

export interface IPatternEditorProps {
  workflow: WorkflowModel;
  /** The pattern being edited; undefined for a new one. */
  editing?: IPatternInfo;
  /** Prefill for a new pattern (e.g. the recipe). */
  initial?: Partial<IPatternForm>;
  /** The Lab's inline code editor factory, for YAML mode; a text area without it. */
  editorFactory?: CodeEditor.Factory;
  onClose: () => void;
}

function initialForm(props: IPatternEditorProps): IPatternForm {
  if (props.editing?.pattern) {
    return formFromPattern(props.editing.pattern);
  }
  const f = newForm(props.initial, props.workflow.recipes);
  if (props.editing) {
    f.name = props.editing.name;
  }
  return f;
}

/** The form's fields below the name: recipe, trigger, input, variables, execution. */
function PatternFields(props: {
  form: IPatternForm;
  recipes: readonly IRecipeInfo[];
  validation: IFormValidation;
  byField: Record<string, string[]>;
  update: FormUpdate;
  errs: FieldErrors;
}): JSX.Element {
  const { form, recipes, validation, byField, update, errs } = props;
  return (
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
        <VariableRows
          section="parameters"
          rows={form.parameters}
          byField={byField}
          onChange={rows => update({ parameters: rows })}
        />
      </Field>
      <Field id="outputs" label="Outputs" help={FIELD_HELP.outputs} errors={errs('outputs')}>
        <VariableRows
          section="outputs"
          rows={form.outputs}
          byField={byField}
          onChange={rows => update({ outputs: rows })}
        />
      </Field>
      <Field id="sweep" label="Sweeps" help={FIELD_HELP.sweep} errors={errs('sweep')}>
        <SweepRows rows={form.sweep} byField={byField} onChange={rows => update({ sweep: rows })} />
      </Field>
      <ExecutionFields
        form={form}
        update={update}
        errs={errs}
        resources={describeResources(validation.pattern?.resources)}
      />
      {errs('form') && (
        <div className="jp-meow-fieldError" data-testid="meow-error-form">
          {errs('form')!.join(' ')}
        </div>
      )}
    </>
  );
}

/** Form ⇄ YAML tabs. */
function ModeSwitch(props: { mode: 'form' | 'yaml'; onSwitch: (to: 'form' | 'yaml') => void }): JSX.Element {
  const tab = (to: 'form' | 'yaml', label: string) => (
    <button
      role="tab"
      aria-selected={props.mode === to}
      className={props.mode === to ? 'jp-mod-active' : ''}
      data-testid={`meow-mode-${to}`}
      onClick={() => props.onSwitch(to)}
    >
      {label}
    </button>
  );
  return (
    <div className="jp-meow-modeSwitch" role="tablist">
      {tab('form', 'Form')}
      {tab('yaml', 'YAML')}
    </div>
  );
}

/**
 * Whether saving `body` as pattern `name` may go ahead: asks before
 * replacing another pattern and before an edit that re-runs jobs.
 */
async function confirmSave(
  workflow: WorkflowModel,
  name: string,
  body: string,
  editing?: IPatternInfo
): Promise<boolean> {
  if (name !== editing?.name && workflow.pattern(name)) {
    const answer = await showDialog({
      title: 'Replace pattern?',
      body: `A pattern named "${name}" already exists. Replace it? Its unfinished jobs are cancelled.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Replace' })]
    });
    if (!answer.button.accept) {
      return false;
    }
  }
  // An edit that changes the pattern's work re-runs it: say so first.
  return !(editing && editing.name === name) || confirmPatternSave(workflow, name, body);
}

/** Save; a rename creates the new pattern, then deletes the old one (P7). */
async function savePattern(workflow: WorkflowModel, name: string, body: string, editing?: IPatternInfo): Promise<void> {
  await workflow.savePattern(name, body);
  if (editing && editing.name !== name) {
    await workflow.deletePattern(editing.name);
  }
}

/** The service's refusal as lines: its message, then each issue with its fix. */
function refusalLines(err: unknown): string[] {
  const lines = [(err as Error).message];
  if (err instanceof MeowApiError) {
    lines.push(...(err.issues ?? []).map(i => `${i.field}: ${i.message}; ${i.fix}`));
  }
  return lines;
}

export function PatternEditor(props: IPatternEditorProps): JSX.Element {
  const { workflow, editing } = props;
  const [form, setForm] = React.useState<IPatternForm>(() => initialForm(props));
  // An unreadable file opens in YAML mode.
  const [mode, setMode] = React.useState<'form' | 'yaml'>(editing && !editing.pattern ? 'yaml' : 'form');
  const [text, setText] = React.useState<string>(editing?.text ?? '');
  const [saving, setSaving] = React.useState(false);
  const [serverError, setServerError] = React.useState<string[]>([]);
  // Fields the user changed; an existing pattern shows all its errors at once.
  const [touched, setTouched] = React.useState<ReadonlySet<string>>(() => new Set());
  const [showAll, setShowAll] = React.useState(!!editing);
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
  const byField = React.useMemo(
    () => visibleErrors(validation.byField, touched, showAll),
    [validation, touched, showAll]
  );
  const yamlCheck = React.useMemo(
    () => (mode === 'yaml' ? parsePattern(form.name.trim(), text) : null),
    [mode, form.name, text]
  );

  const update: FormUpdate = patch => {
    setForm(f => ({ ...f, ...patch }));
    setTouched(t => new Set([...t, ...Object.keys(patch)]));
    setServerError([]);
  };
  const errs: FieldErrors = key => byField[key];

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

  // Save stays enabled while the only errors are on fields not yet
  // touched: pressing it shows them (and then disables it).
  const shownErrors = Object.keys(byField).length > 0;
  const canSave = !saving && (mode === 'form' ? !shownErrors : !!yamlCheck && yamlCheck.issues.length === 0);

  const save = async () => {
    if (mode === 'form' && !validation.yaml) {
      setShowAll(true);
      return;
    }
    const name = form.name.trim();
    const body = mode === 'form' ? validation.yaml! : text;
    if (!(await confirmSave(workflow, name, body, editing))) {
      return;
    }
    setSaving(true);
    try {
      await savePattern(workflow, name, body, editing);
      props.onClose();
    } catch (err) {
      setServerError(refusalLines(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="jp-meow-PatternEditor" data-testid="meow-pattern-editor" ref={box}>
      <div className="jp-meow-editorHeader">
        <h3>{editing ? `Edit pattern ${editing.name}` : 'New pattern'}</h3>
        <ModeSwitch mode={mode} onSwitch={switchMode} />
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
          <YamlEditor
            id="jp-meow-pattern-yaml"
            value={text}
            factory={props.editorFactory}
            onChange={value => {
              setText(value);
              setServerError([]);
            }}
          />
        </Field>
      ) : (
        <PatternFields
          form={form}
          recipes={recipes}
          validation={validation}
          byField={byField}
          update={update}
          errs={errs}
        />
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
        <button
          className="jp-Button jp-mod-styled jp-mod-reject"
          onClick={props.onClose}
          data-testid="meow-pattern-cancel"
        >
          Cancel
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-accept"
          disabled={!canSave}
          onClick={() => void save()}
          data-testid="meow-pattern-save"
        >
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
    </div>
  );
}
