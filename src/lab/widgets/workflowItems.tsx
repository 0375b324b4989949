/**
 * The rows of the Workflow panel's lists: a pattern with its state, trigger
 * and actions (Run now, and for manual patterns its waiting files), and a
 * recipe with the patterns that use it.
 */
import type { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import type { IPatternInfo, IRecipeInfo } from '../../core/api';
import { triggerIcons } from '../icons';
import { CommandIDs, IMeow } from '../tokens';
import { TRIGGER_GROUP_HELP, TRIGGER_GROUP_LABEL, triggerSummary } from '../triggers';
import { RunBox, RunOutcomeView, WaitingList, runLabel } from './patternRun';
import { PauseNotice } from './paused';

/** A pattern in the list: state, trigger, actions; Run now and, for manual patterns, its waiting files. */
export function PatternItem(props: {
  meow: IMeow;
  /** The application's commands (a run's job links); null in tests. */
  commands: CommandRegistry | null;
  /** Whether the Workflow panel shows: waiting files are only polled then. */
  visible: boolean;
  info: IPatternInfo;
  state: string;
  onEdit: (name: string) => void;
  onExport: (info: IPatternInfo) => void;
  onDelete: (name: string) => void;
}): JSX.Element {
  const { meow, commands, info: p, state } = props;
  const [running, setRunning] = React.useState(false);
  const pause = meow.paused.get(p.name);
  const pattern = p.pattern;
  const outcome = meow.manual.outcome(p.name);
  const trigger = pattern?.trigger;
  const Icon = trigger ? triggerIcons[trigger.kind] : null;
  const runnable = !!pattern && state === 'active';
  const showJob = commands ? (id: string) => void commands.execute(CommandIDs.showJob, { id }) : undefined;
  return (
    <li
      className={`jp-meow-patternItem${pause ? ' jp-meow-isPaused' : ''}`}
      data-meow-pattern={p.name}
      data-meow-state={state}
      data-meow-paused={pause?.limit}
      data-meow-trigger-kind={trigger?.kind}
    >
      <span className={`jp-meow-dot jp-meow-dot-${state}`} title={state} />
      <span className="jp-meow-itemMain">
        <span className="jp-meow-itemName" title={p.name}>
          {p.name}
        </span>
        <span
          className="jp-meow-itemSub"
          title={trigger ? `${TRIGGER_GROUP_LABEL[trigger.kind]}: ${TRIGGER_GROUP_HELP[trigger.kind]}` : undefined}
        >
          {pattern && trigger ? (
            <>
              {pattern.recipe} · {Icon && <Icon.react tag="span" className="jp-meow-triggerIcon" />}
              {triggerSummary(trigger)}
            </>
          ) : (
            (p.problem ?? 'cannot be read')
          )}
        </span>
        {pause && <PauseNotice meow={meow} rule={pause} />}
      </span>
      {pattern && (
        <button
          className="jp-Button jp-mod-minimal"
          data-testid="meow-run-pattern"
          title={
            runnable
              ? trigger?.kind === 'manual'
                ? `Run ${p.name} now`
                : `Run ${p.name} now, without waiting for its trigger`
              : 'Its recipe is missing: register it first'
          }
          disabled={!runnable}
          aria-expanded={running}
          onClick={() => setRunning(r => !r)}
        >
          {runLabel(pattern)}
        </button>
      )}
      <button className="jp-Button jp-mod-minimal" title="Edit" onClick={() => props.onEdit(p.name)}>
        Edit
      </button>
      <button className="jp-Button jp-mod-minimal" title="Export as YAML file" onClick={() => props.onExport(p)}>
        Export
      </button>
      <button
        className="jp-Button jp-mod-minimal"
        title="Delete"
        data-testid="meow-delete-pattern"
        onClick={() => props.onDelete(p.name)}
      >
        Delete
      </button>
      {pattern && (running || outcome || (trigger?.kind === 'manual' && trigger.path)) && (
        <div className="jp-meow-patternExtra">
          {running && runnable && <RunBox meow={meow} pattern={pattern} onClose={() => setRunning(false)} />}
          {outcome && <RunOutcomeView meow={meow} pattern={p.name} outcome={outcome} onShowJob={showJob} />}
          {trigger?.kind === 'manual' && trigger.path && (
            <WaitingList meow={meow} pattern={pattern} visible={props.visible} />
          )}
        </div>
      )}
    </li>
  );
}

/** A recipe in the list: where it came from, who uses it; "+ Pattern" opens the form with it. */
export function RecipeItem(props: {
  recipe: IRecipeInfo;
  /** Patterns naming it. */
  users: string[];
  onNewPattern: (recipe: string) => void;
  onDelete: (recipe: string) => void;
}): JSX.Element {
  const { recipe: r, users } = props;
  return (
    <li className="jp-meow-recipeItem" data-meow-recipe={r.name} data-meow-state={r.problem ? 'invalid' : 'ok'}>
      <span className={`jp-meow-dot jp-meow-dot-${r.problem ? 'invalid' : 'recipe'}`} />
      <span className="jp-meow-itemMain">
        <span className="jp-meow-itemName" title={r.name}>
          {r.name}
        </span>
        <span className="jp-meow-itemSub" title={r.variables.join(', ')}>
          {r.problem ??
            `${r.source ? `from ${r.source} · ` : ''}${users.length ? `used by ${users.join(', ')}` : 'no pattern uses it'}`}
        </span>
      </span>
      <button
        className="jp-Button jp-mod-minimal"
        title="New pattern with this recipe"
        data-testid="meow-recipe-new-pattern"
        onClick={() => props.onNewPattern(r.name)}
      >
        + Pattern
      </button>
      <button className="jp-Button jp-mod-minimal" title="Delete" onClick={() => props.onDelete(r.name)}>
        Delete
      </button>
    </li>
  );
}
