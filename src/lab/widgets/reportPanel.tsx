/**
 * The Report panel (main area): the provenance DAG — jobs as nodes coloured
 * by pattern, failed jobs marked, the files that triggered children on the
 * edges — with the thesis ReportWidget's six filters, job details on click,
 * and export as SVG or PNG.
 */
import { showErrorMessage } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import { IProvenanceFilter, IProvenanceGraph, provenanceGraph } from '../../core/provenance';
import { downloadPng, downloadSvg } from '../exportImage';
import { localInputToIso } from '../format';
import { FAILED_COLOUR, reportGraph } from '../report';
import type { IMeow } from '../tokens';
import { renderDag } from './dagView';
import { useSignal } from './hooks';
import { JobDetail } from './jobDetail';

/** Most jobs drawn at once; beyond that the user is asked to filter. */
export const MAX_REPORT_JOBS = 600;

function ReportView(props: { meow: IMeow; commands: CommandRegistry }): JSX.Element {
  const { meow, commands } = props;
  useSignal(meow.workflow.changed);
  const [filter, setFilter] = React.useState<IProvenanceFilter>({});
  const [graph, setGraph] = React.useState<IProvenanceGraph | null>(null);
  const [source, setSource] = React.useState<'service' | 'local'>('service');
  const [error, setError] = React.useState<string | null>(null);
  const [selected, setSelected] = React.useState<string | null>(null);
  const [tick, setTick] = React.useState(0);
  const box = React.useRef<HTMLDivElement>(null);
  const svgRef = React.useRef<SVGSVGElement | null>(null);

  // Live: jobs changing re-queries (at most once a second).
  React.useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const onChange = () => {
      if (timer === null) {
        timer = setTimeout(() => {
          timer = null;
          setTick(t => t + 1);
        }, 1000);
      }
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
            setSource('service');
            setError(null);
          }
        })
        .catch(err => {
          if (cancelled) {
            return;
          }
          // Same core code as the service, on the jobs the browser holds.
          setGraph(provenanceGraph(meow.jobs.all(), filter));
          setSource('local');
          setError((err as Error).message);
        });
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [filter, tick]);

  const drawn = React.useMemo(() => {
    if (!graph) {
      return null;
    }
    const jobs = graph.jobs.length > MAX_REPORT_JOBS ? graph.jobs.slice(-MAX_REPORT_JOBS) : graph.jobs;
    const kept = new Set(jobs.map(j => j.id));
    return {
      truncated: graph.jobs.length - jobs.length,
      ...reportGraph({ jobs, edges: graph.edges.filter(e => kept.has(e.from) && kept.has(e.to)) })
    };
  }, [graph]);

  React.useEffect(() => {
    if (!box.current || !drawn) {
      return;
    }
    svgRef.current = renderDag(
      box.current,
      drawn.nodes.map(n => ({
        id: n.id,
        label: n.label,
        sublabel: n.sublabel,
        width: n.width,
        height: n.height,
        fill: n.colour,
        stroke: n.failed ? FAILED_COLOUR : '#333333',
        strokeWidth: n.failed ? 3 : 1,
        dashed: n.job.status === 'cancelled' || n.job.status === 'skipped',
        title: n.title,
        badge: n.failed ? '✗' : undefined,
        badgeColour: FAILED_COLOUR,
        attrs: { 'data-meow-job-id': n.id, 'data-meow-job-status': n.job.status, 'data-meow-pattern': n.job.pattern }
      })),
      drawn.edges.map(e => ({ from: e.from, to: e.to, label: e.label })),
      {
        className: 'jp-meow-reportSvg',
        empty: 'No jobs match these filters.',
        onClick: id => setSelected(id)
      }
    );
  }, [drawn]);

  const set = (patch: Partial<IProvenanceFilter>) => {
    const next: IProvenanceFilter = { ...filter, ...patch };
    for (const k of Object.keys(next) as (keyof IProvenanceFilter)[]) {
      if (next[k] === '' || next[k] === undefined) {
        delete next[k];
      }
    }
    setFilter(next);
  };
  const patterns = [...new Set([...meow.workflow.patterns.map(p => p.name), ...meow.jobs.patterns])].sort();
  const recipes = [...new Set([...meow.workflow.recipes.map(r => r.name), ...meow.jobs.recipes])].sort();
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
      <div className="jp-meow-filters" data-testid="meow-report-filters">
        <input className="jp-mod-styled" placeholder="Job id" aria-label="Job" data-testid="meow-report-job" onChange={e => set({ job: e.target.value })} />
        <input className="jp-mod-styled" placeholder="Triggering path or glob" aria-label="Path" data-testid="meow-report-path" onChange={e => set({ path: e.target.value })} />
        <select className="jp-mod-styled" aria-label="Pattern" data-testid="meow-report-pattern" value={filter.pattern ?? ''} onChange={e => set({ pattern: e.target.value })}>
          <option value="">all patterns</option>
          {patterns.map(p => (
            <option key={p}>{p}</option>
          ))}
        </select>
        <select className="jp-mod-styled" aria-label="Recipe" data-testid="meow-report-recipe" value={filter.recipe ?? ''} onChange={e => set({ recipe: e.target.value })}>
          <option value="">all recipes</option>
          {recipes.map(r => (
            <option key={r}>{r}</option>
          ))}
        </select>
        <label className="jp-meow-time">
          after
          <input type="datetime-local" className="jp-mod-styled" data-testid="meow-report-after" onChange={e => set({ after: localInputToIso(e.target.value) })} />
        </label>
        <label className="jp-meow-time">
          before
          <input type="datetime-local" className="jp-mod-styled" data-testid="meow-report-before" onChange={e => set({ before: localInputToIso(e.target.value) })} />
        </label>
        <span className="jp-meow-spacer" />
        <button className="jp-Button jp-mod-styled jp-mod-reject" data-testid="meow-report-export-svg" disabled={!drawn?.nodes.length} onClick={() => void exportAs('svg')}>
          Export SVG
        </button>
        <button className="jp-Button jp-mod-styled jp-mod-reject" data-testid="meow-report-export-png" disabled={!drawn?.nodes.length} onClick={() => void exportAs('png')}>
          Export PNG
        </button>
      </div>
      {drawn && drawn.colours.size > 0 && (
        <div className="jp-meow-legend" data-testid="meow-report-legend">
          {[...drawn.colours].map(([p, c]) => (
            <span key={p}>
              <span className="jp-meow-swatch" style={{ background: c }} /> {p}
            </span>
          ))}
          <span>
            <span className="jp-meow-swatch" style={{ border: `3px solid ${FAILED_COLOUR}` }} /> failed
          </span>
        </div>
      )}
      {source === 'local' && error && (
        <div className="jp-meow-muted">Service report unavailable ({error}); drawn from the jobs loaded in the browser.</div>
      )}
      {drawn && drawn.truncated > 0 && (
        <div className="jp-meow-warnings">
          Showing the newest {MAX_REPORT_JOBS} of {drawn.truncated + MAX_REPORT_JOBS} jobs; narrow the filters to see the others.
        </div>
      )}
      <div className="jp-meow-split">
        <div className="jp-meow-reportGraph" ref={box} data-testid="meow-report-graph" data-meow-jobs={drawn?.nodes.length ?? 0} data-meow-edges={drawn?.edges.length ?? 0} />
        {selected && <JobDetail meow={meow} commands={commands} jobId={selected} onSelectJob={setSelected} onClose={() => setSelected(null)} />}
      </div>
    </div>
  );
}

/** The Report panel's content (wrap it in a MainAreaWidget). */
export class ReportPanel extends ReactWidget {
  constructor(readonly meow: IMeow, readonly commands: CommandRegistry) {
    super();
    this.addClass('jp-meow-ReportPanel');
    this.node.setAttribute('data-testid', 'meow-report-panel');
  }

  protected render(): JSX.Element {
    return <ReportView meow={this.meow} commands={this.commands} />;
  }
}
