/**
 * The Report panel (main area): the provenance DAG — jobs labelled with
 * their trigger files and coloured by pattern, failed jobs marked, the files
 * that triggered children on the edges — with the thesis ReportWidget's six
 * filters, job details on click, and export as SVG or PNG.
 *
 * Thousands of jobs stay navigable: repeated workflows fold into group nodes
 * (click to unfold), the canvas zooms and pans, and the search box finds a
 * job by trigger file, id or pattern and zooms to it.
 */
import { showErrorMessage } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import { IProvenanceFilter, IProvenanceGraph, provenanceGraph } from '../../core/provenance';
import { downloadPng, downloadSvg } from '../exportImage';
import { localInputToIso } from '../format';
import { FAILED_COLOUR, IReportGraph, IReportNode, isGroupId, reportGraph, searchJobs } from '../report';
import type { IMeow } from '../tokens';
import { IDagCanvas, IDagViewNode, renderZoomableDag } from './dagView';
import { useSignal } from './hooks';
import { JobDetail } from './jobDetail';

/** The provenance graph for `filter`, from the service (else from the jobs the browser holds), live. */
function useProvenance(meow: IMeow, filter: IProvenanceFilter) {
  const [graph, setGraph] = React.useState<IProvenanceGraph | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [tick, setTick] = React.useState(0);

  // Live: jobs changing re-queries (at most once a second).
  React.useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const onChange = () => {
      timer ??= setTimeout(() => {
        timer = null;
        setTick(t => t + 1);
      }, 1000);
    };
    meow.jobs.changed.connect(onChange);
    return () => {
      meow.jobs.changed.disconnect(onChange);
      if (timer !== null) {
        clearTimeout(timer);
      }
    };
  }, [meow]);

  React.useEffect(() => {
    let cancelled = false;
    const t = setTimeout(() => {
      meow.client
        .getProvenance(filter)
        .then(g => {
          if (!cancelled) {
            setGraph(g);
            setError(null);
          }
        })
        .catch(err => {
          if (!cancelled) {
            // Same core code as the service, on the jobs the browser holds.
            setGraph(provenanceGraph(meow.jobs.all(), filter));
            setError((err as Error).message);
          }
        });
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [filter, tick]);
  return { graph, error };
}

/** What the d3 view draws for one report node. */
function toDagNode(n: IReportNode): IDagViewNode {
  const status = n.job?.status;
  return {
    id: n.id,
    label: n.label,
    sublabel: n.sublabel,
    width: n.width,
    height: n.height,
    fill: n.colour,
    textColour: n.textColour,
    stroke: n.failed ? FAILED_COLOUR : '#333333',
    strokeWidth: n.failed ? 3 : 1,
    dashed: status === 'cancelled' || status === 'skipped',
    title: n.title,
    badge: n.failed ? '✗' : undefined,
    badgeColour: FAILED_COLOUR,
    attrs: n.group
      ? {
          'data-meow-group': n.group.key,
          'data-meow-group-expanded': String(n.group.expanded),
          ...(n.failed ? { 'data-meow-failed': '' } : {})
        }
      : { 'data-meow-job-id': n.id, 'data-meow-job-status': status!, 'data-meow-pattern': n.job!.pattern }
  };
}

interface ICanvasProps {
  drawn: IReportGraph | null;
  /** A job to zoom to once drawn (a search result); `seq` repeats a search. */
  focus: { id: string; seq: number } | null;
  /** Changes when the view should fit again (new filters). */
  viewKey: string;
  onClick: (id: string) => void;
  svgRef: React.MutableRefObject<SVGSVGElement | null>;
}

/** The zoomable graph with fit / zoom buttons; redraws keep the user's view. */
function ReportCanvas(props: ICanvasProps): JSX.Element {
  const { drawn, focus, viewKey, onClick, svgRef } = props;
  const box = React.useRef<HTMLDivElement>(null);
  const canvas = React.useRef<IDagCanvas | null>(null);
  const view = React.useRef<{ key: string; transform: IDagCanvas['transform'] } | null>(null);
  const clickRef = React.useRef(onClick);
  clickRef.current = onClick;

  React.useEffect(() => {
    if (!box.current || !drawn) {
      return;
    }
    const kept = canvas.current && view.current?.key === viewKey ? canvas.current.transform : null;
    const started = performance.now();
    canvas.current = renderZoomableDag(box.current, drawn.nodes.map(toDagNode), drawn.edges, {
      className: 'jp-meow-reportSvg',
      themed: true,
      packed: true,
      transform: kept,
      empty: 'No jobs match these filters.',
      onClick: id => clickRef.current(id)
    });
    svgRef.current = canvas.current?.svg ?? null;
    view.current = { key: viewKey, transform: kept ?? { k: 1, x: 0, y: 0 } };
    // For the UI test's printed timing (layout and drawing of this graph).
    box.current.setAttribute('data-meow-draw-ms', String(Math.round(performance.now() - started)));
  }, [drawn, viewKey]);

  // Zoom to a search result once (a later redraw keeps the user's view) and mark it.
  const zoomed = React.useRef<number | null>(null);
  React.useEffect(() => {
    const c = canvas.current;
    if (!focus || !c) {
      return;
    }
    const nodes = Array.from(c.svg.querySelectorAll('[data-meow-node]'));
    const node = nodes.find(el => el.getAttribute('data-meow-node') === focus.id);
    c.svg.querySelectorAll('.jp-meow-focus').forEach(el => el.classList.remove('jp-meow-focus'));
    node?.classList.add('jp-meow-focus');
    if (node && zoomed.current !== focus.seq) {
      zoomed.current = focus.seq;
      c.zoomTo(focus.id);
    }
  }, [focus, drawn]);

  return (
    <div
      className="jp-meow-reportGraph jp-meow-reportCanvas"
      data-testid="meow-report-graph"
      data-meow-jobs={drawn?.drawnJobs ?? 0}
      data-meow-total={drawn?.total ?? 0}
      data-meow-groups={drawn?.groups.length ?? 0}
      data-meow-edges={drawn?.edges.length ?? 0}
    >
      <div className="jp-meow-reportTools">
        <button
          className="jp-Button jp-mod-styled"
          title="Zoom in"
          data-testid="meow-report-zoom-in"
          onClick={() => canvas.current?.zoomBy(1.5)}
        >
          +
        </button>
        <button
          className="jp-Button jp-mod-styled"
          title="Zoom out"
          data-testid="meow-report-zoom-out"
          onClick={() => canvas.current?.zoomBy(1 / 1.5)}
        >
          −
        </button>
        <button
          className="jp-Button jp-mod-styled"
          title="Fit the whole graph"
          data-testid="meow-report-fit"
          onClick={() => canvas.current?.fit()}
        >
          Fit
        </button>
      </div>
      <div ref={box} style={{ width: '100%', height: '100%' }} />
    </div>
  );
}

/** Search box: Enter finds the next job whose trigger path, id or pattern matches. */
function ReportSearch(props: { graph: IProvenanceGraph | null; onFound: (id: string) => void }): JSX.Element {
  const [query, setQuery] = React.useState('');
  const [status, setStatus] = React.useState('');
  const next = React.useRef({ query: '', index: 0 });
  const find = () => {
    const hits = props.graph ? searchJobs(props.graph, query) : [];
    if (!hits.length) {
      setStatus(query.trim() ? 'No job matches.' : '');
      return;
    }
    const index = next.current.query === query ? next.current.index % hits.length : 0;
    next.current = { query, index: index + 1 };
    setStatus(`${index + 1} of ${hits.length.toLocaleString('en')} (newest first; Enter for the next)`);
    props.onFound(hits[index].id);
  };
  return (
    <div className="jp-meow-reportSearch">
      <input
        className="jp-mod-styled"
        placeholder="Find a job: trigger file, job id or pattern"
        aria-label="Find a job"
        data-testid="meow-report-search"
        value={query}
        onChange={e => setQuery(e.target.value)}
        onKeyDown={e => e.key === 'Enter' && find()}
      />
      <span className="jp-meow-muted" data-testid="meow-report-search-status">
        {status}
      </span>
    </div>
  );
}

function Filters(props: {
  meow: IMeow;
  filter: IProvenanceFilter;
  onChange: (f: IProvenanceFilter) => void;
  children?: React.ReactNode;
}): JSX.Element {
  const { meow, filter } = props;
  const set = (patch: Partial<IProvenanceFilter>) => {
    const next: IProvenanceFilter = { ...filter, ...patch };
    for (const k of Object.keys(next) as (keyof IProvenanceFilter)[]) {
      if (next[k] === '' || next[k] === undefined) {
        delete next[k];
      }
    }
    props.onChange(next);
  };
  const patterns = [...new Set([...meow.workflow.patterns.map(p => p.name), ...meow.jobs.patterns])].sort();
  const recipes = [...new Set([...meow.workflow.recipes.map(r => r.name), ...meow.jobs.recipes])].sort();
  return (
    <div className="jp-meow-filters" data-testid="meow-report-filters">
      <input
        className="jp-mod-styled"
        placeholder="Job id"
        aria-label="Job"
        data-testid="meow-report-job"
        onChange={e => set({ job: e.target.value })}
      />
      <input
        className="jp-mod-styled"
        placeholder="Triggering path or glob"
        aria-label="Path"
        data-testid="meow-report-path"
        onChange={e => set({ path: e.target.value })}
      />
      <select
        className="jp-mod-styled"
        aria-label="Pattern"
        data-testid="meow-report-pattern"
        value={filter.pattern ?? ''}
        onChange={e => set({ pattern: e.target.value })}
      >
        <option value="">all patterns</option>
        {patterns.map(p => (
          <option key={p}>{p}</option>
        ))}
      </select>
      <select
        className="jp-mod-styled"
        aria-label="Recipe"
        data-testid="meow-report-recipe"
        value={filter.recipe ?? ''}
        onChange={e => set({ recipe: e.target.value })}
      >
        <option value="">all recipes</option>
        {recipes.map(r => (
          <option key={r}>{r}</option>
        ))}
      </select>
      <label className="jp-meow-time">
        after
        <input
          type="datetime-local"
          className="jp-mod-styled"
          data-testid="meow-report-after"
          onChange={e => set({ after: localInputToIso(e.target.value) })}
        />
      </label>
      <label className="jp-meow-time">
        before
        <input
          type="datetime-local"
          className="jp-mod-styled"
          data-testid="meow-report-before"
          onChange={e => set({ before: localInputToIso(e.target.value) })}
        />
      </label>
      <span className="jp-meow-spacer" />
      {props.children}
    </div>
  );
}

function Summary(props: { drawn: IReportGraph }): JSX.Element | null {
  const { drawn } = props;
  if (!drawn.groups.length && !drawn.omitted) {
    return null;
  }
  const n = (x: number) => x.toLocaleString('en');
  return (
    <div className="jp-meow-muted jp-meow-reportSummary" data-testid="meow-report-summary">
      {n(drawn.total)} jobs: {n(drawn.drawnJobs)} drawn
      {drawn.groups.length > 0 &&
        `, repeated workflows folded into ${n(drawn.groups.length)} group${drawn.groups.length === 1 ? '' : 's'} (click one to unfold it)`}
      {drawn.omitted > 0 && `; ${n(drawn.omitted)} older jobs not drawn: narrow the filters or search`}.
    </div>
  );
}

function ReportView(props: { meow: IMeow; commands: CommandRegistry }): JSX.Element {
  const { meow, commands } = props;
  useSignal(meow.workflow.changed);
  const [filter, setFilter] = React.useState<IProvenanceFilter>({});
  const { graph, error } = useProvenance(meow, filter);
  const [selected, setSelected] = React.useState<string | null>(null);
  const [expanded, setExpanded] = React.useState<ReadonlySet<string>>(new Set());
  const [focus, setFocus] = React.useState<{ id: string; seq: number } | null>(null);
  const svgRef = React.useRef<SVGSVGElement | null>(null);

  const drawn = React.useMemo(
    () => (graph ? reportGraph(graph, { expanded, focus: focus?.id }) : null),
    [graph, expanded, focus?.id]
  );
  const onClick = (id: string) => {
    if (isGroupId(id)) {
      const next = new Set(expanded);
      if (next.has(id)) {
        next.delete(id);
      } else {
        next.add(id);
      }
      setExpanded(next);
    } else {
      setSelected(id);
    }
  };
  const exportAs = async (kind: 'svg' | 'png') => {
    if (!svgRef.current) {
      return;
    }
    const name = `meow-provenance-${new Date().toISOString().replace(/[:.]/g, '-')}.${kind}`;
    try {
      if (kind === 'svg') {
        downloadSvg(svgRef.current, name);
      } else {
        await downloadPng(svgRef.current, name);
      }
    } catch (err) {
      await showErrorMessage('Export failed', err as Error);
    }
  };

  return (
    <div className="jp-meow-reportBody">
      <Filters meow={meow} filter={filter} onChange={setFilter}>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject"
          data-testid="meow-report-export-svg"
          disabled={!drawn?.nodes.length}
          onClick={() => void exportAs('svg')}
        >
          Export SVG
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject"
          data-testid="meow-report-export-png"
          disabled={!drawn?.nodes.length}
          onClick={() => void exportAs('png')}
        >
          Export PNG
        </button>
      </Filters>
      <ReportSearch graph={graph} onFound={id => setFocus(f => ({ id, seq: (f?.seq ?? 0) + 1 }))} />
      {drawn && drawn.colours.size > 0 && (
        <div className="jp-meow-legend" data-testid="meow-report-legend">
          {[...drawn.colours].map(([p, c]) => (
            <span key={p} data-meow-legend-pattern={p} data-meow-colour={c}>
              <span className="jp-meow-swatch" style={{ background: c }} /> {p}
            </span>
          ))}
          <span>
            <span className="jp-meow-swatch" style={{ border: `3px solid ${FAILED_COLOUR}` }} /> failed
          </span>
        </div>
      )}
      {error && (
        <div className="jp-meow-muted">
          Service report unavailable ({error}); drawn from the jobs loaded in the browser.
        </div>
      )}
      {drawn && <Summary drawn={drawn} />}
      <div className="jp-meow-split">
        <ReportCanvas drawn={drawn} focus={focus} viewKey={JSON.stringify(filter)} onClick={onClick} svgRef={svgRef} />
        {selected && (
          <JobDetail
            meow={meow}
            commands={commands}
            jobId={selected}
            onSelectJob={setSelected}
            onClose={() => setSelected(null)}
          />
        )}
      </div>
    </div>
  );
}

/** The Report panel's content (wrap it in a MainAreaWidget). */
export class ReportPanel extends ReactWidget {
  constructor(
    readonly meow: IMeow,
    readonly commands: CommandRegistry
  ) {
    super();
    this.addClass('jp-meow-ReportPanel');
    this.node.setAttribute('data-testid', 'meow-report-panel');
  }

  protected render(): JSX.Element {
    return <ReportView meow={this.meow} commands={this.commands} />;
  }
}
