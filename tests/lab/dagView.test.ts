/**
 * The d3 drawing of the workflow graph and of the report, in jsdom.
 */
import { parsePattern } from '../../src/core/pattern';
import { provenanceGraph } from '../../src/core/provenance';
import type { IPatternInfo } from '../../src/core/api';
import { buildWorkflowGraph } from '../../src/lab/graph';
import { svgToString } from '../../src/lab/exportImage';
import { reportGraph } from '../../src/lab/report';
import { renderDag, renderZoomableDag } from '../../src/lab/widgets/dagView';
import { makeJob } from './fakes';

function info(name: string, text: string): IPatternInfo {
  const { pattern } = parsePattern(name, text);
  return { name, file: `${name}.yaml`, text, pattern, active: true };
}

describe('renderDag', () => {
  it('draws the workflow graph with states, edges, hover and click', () => {
    const g = buildWorkflowGraph(
      [
        info(
          'Pattern_One',
          'recipe: append\ntrigger: {path: "start/*"}\noutputs: {outfile: "{VGRID}/first/{FILENAME}"}\n'
        ),
        info('Pattern_Two', 'recipe: nope\ntrigger: {path: "first/*"}\n')
      ],
      [{ name: 'append', file: 'a', variables: [], patterns: [] }]
    );
    const host = document.createElement('div');
    const clicked: string[] = [];
    const hovered: (string | null)[] = [];
    const svg = renderDag(
      host,
      g.nodes.map(n => ({
        id: n.id,
        label: n.label,
        width: 100,
        height: 30,
        fill: '#fff',
        stroke: '#000',
        title: n.details.join('\n'),
        attrs: n.state ? { 'data-meow-pattern-state': n.state } : ({} as Record<string, string>)
      })),
      g.edges.map(e => ({ from: e.from, to: e.to })),
      { onClick: id => clicked.push(id), onHover: id => hovered.push(id) }
    )!;
    expect(svg.getAttribute('viewBox')).toMatch(/^0 0 \d/);
    const one = host.querySelector('[data-meow-node="pattern:Pattern_One"]')!;
    expect(one.getAttribute('data-meow-pattern-state')).toBe('active');
    expect(host.querySelector('[data-meow-node="pattern:Pattern_Two"]')!.getAttribute('data-meow-pattern-state')).toBe(
      'missing'
    );
    expect(host.querySelector('[data-meow-edge="output:Pattern_One:outfile->trigger:first/*"]')).not.toBeNull();
    expect(host.querySelectorAll('.jp-meow-dagEdge')).toHaveLength(g.edges.length);
    expect(one.querySelector('title')!.textContent).toMatch(/recipe: append/);
    one.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    one.dispatchEvent(new MouseEvent('mouseenter'));
    expect(clicked).toEqual(['pattern:Pattern_One']);
    expect(hovered).toEqual(['pattern:Pattern_One']);
  });

  it('draws the report with file labels and failed badges, or a message when empty', () => {
    const a = makeJob(1, { pattern: 'P1' });
    const b = makeJob(2, { pattern: 'P2', parent: a.id, status: 'failed' });
    b.trigger.path = 'first/Alpha.txt';
    const r = reportGraph(provenanceGraph([a, b]));
    const host = document.createElement('div');
    renderDag(
      host,
      r.nodes.map(n => ({ ...n, fill: n.colour, stroke: '#333', badge: n.failed ? '✗' : undefined })),
      r.edges
    );
    expect(host.querySelector('.jp-meow-dagEdge text')!.textContent).toBe('first/Alpha.txt');
    expect(host.querySelectorAll('circle')).toHaveLength(1);
    const empty = document.createElement('div');
    expect(renderDag(empty, [], [], { empty: 'No jobs.' })).toBeNull();
    expect(empty.textContent).toBe('No jobs.');
  });
});

describe('renderZoomableDag', () => {
  function draw(host: HTMLElement) {
    const a = makeJob(1, { pattern: 'P1' });
    const b = makeJob(2, { pattern: 'P2', parent: a.id });
    b.trigger.path = 'first/Alpha.txt';
    const c = makeJob(3, { pattern: 'P1' });
    const r = reportGraph(provenanceGraph([a, b, c]));
    return {
      ids: [a.id, b.id, c.id],
      canvas: renderZoomableDag(
        host,
        r.nodes.map(n => ({ ...n, fill: n.colour, stroke: '#333' })),
        r.edges,
        { themed: true, packed: true, className: 'jp-meow-reportSvg' }
      )!
    };
  }

  it('zooms, pans to a node and fits, on the zoom group', () => {
    const host = document.createElement('div');
    document.body.appendChild(host);
    const { canvas, ids } = draw(host);
    const root = host.querySelector('[data-meow-zoom]')!;
    // Fitted at first (jsdom has no size: 800×600 is assumed): the graph is small, so scale 1.
    expect(canvas.transform.k).toBe(1);
    const before = root.getAttribute('transform');
    canvas.zoomBy(2);
    expect(canvas.transform.k).toBeCloseTo(2);
    expect(root.getAttribute('transform')).not.toBe(before);
    expect(root.getAttribute('transform')).toContain('scale(2)');
    // Zoom to the third job: its centre lands in the middle of the view.
    expect(canvas.zoomTo(ids[2])).toBe(true);
    const target = canvas.layout.nodes.find(n => n.id === ids[2])!;
    const t = canvas.transform;
    expect(t.x + target.x * t.k).toBeCloseTo(400);
    expect(t.y + target.y * t.k).toBeCloseTo(300);
    expect(canvas.zoomTo('no-such-job')).toBe(false);
    canvas.fit();
    expect(canvas.transform.k).toBe(1);
    host.remove();
  });

  it('leaves themed colours to CSS and exports the whole graph', () => {
    const host = document.createElement('div');
    const { canvas } = draw(host);
    const edge = host.querySelector('.jp-meow-dagEdgeLine')!;
    expect(edge.getAttribute('stroke')).toBeNull();
    expect(host.querySelector('.jp-meow-dagEdgeLabel')!.getAttribute('fill')).toBeNull();
    // Labels: trigger file names, with text chosen for contrast.
    const labels = [...host.querySelectorAll('.jp-meow-dagNode text')].map(t => t.textContent);
    expect(labels).toContain('Alpha.txt');
    canvas.zoomBy(3);
    const text = svgToString(canvas.svg, { background: '#111111' });
    const { width, height } = canvas.layout;
    expect(text).toContain(`viewBox="0 0 ${width} ${height}"`);
    expect(text).toContain(`width="${width}"`);
    expect(text).toContain('fill="#111111"');
    // The zoom is not exported.
    expect(text).not.toMatch(/data-meow-zoom="" transform=/);
  });
});
