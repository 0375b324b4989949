/**
 * Export a drawn SVG graph as a standalone SVG file or as a PNG. Colours the
 * page gives through the Lab theme's CSS (variables a file cannot resolve)
 * are copied onto the elements as plain values, and the background is the
 * one on screen, so the file looks like the screen in either theme.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Painted properties copied from the page's computed style. */
const PAINT = ['fill', 'stroke', 'stroke-width', 'opacity'] as const;

/** The extent to export: `data-meow-bounds` (zoomable views), else the viewBox. */
function exportBox(svg: SVGSVGElement): number[] | undefined {
  const box = (svg.getAttribute('data-meow-bounds') ?? svg.getAttribute('viewBox'))?.split(/[ ,]+/).map(Number);
  return box && box.length === 4 && box.every(Number.isFinite) ? box : undefined;
}

/**
 * Copy the computed paint of every element of `svg` onto its twin in `copy`
 * (a cloneNode of it). Needs the page: without a computed style (jsdom,
 * detached nodes) the attributes are left as they are.
 */
function inlineComputedPaint(svg: SVGSVGElement, copy: SVGSVGElement): void {
  const view = svg.ownerDocument.defaultView;
  if (!view || !svg.isConnected) {
    return;
  }
  const from = svg.querySelectorAll('*');
  const to = copy.querySelectorAll('*');
  from.forEach((el, i) => {
    const twin = to[i];
    if (!twin || el.tagName !== twin.tagName || !(el instanceof view.SVGElement) || el.tagName === 'title') {
      return;
    }
    const style = view.getComputedStyle(el);
    for (const prop of PAINT) {
      const value = style.getPropertyValue(prop);
      if (value) {
        twin.setAttribute(prop, value);
      }
    }
  });
}

/** The page's background colour behind `svg` (its own, else its ancestors'). */
export function screenBackground(svg: SVGSVGElement, fallback = '#ffffff'): string {
  const view = svg.ownerDocument.defaultView;
  for (let el: Element | null = svg; el && view; el = el.parentElement) {
    const bg = view.getComputedStyle(el).backgroundColor;
    if (bg && bg !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(bg)) {
      return bg;
    }
  }
  return fallback;
}

/** A standalone SVG document of `svg` (copied; the page is not changed). */
export function svgToString(svg: SVGSVGElement, options: { background?: string; css?: string } = {}): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  inlineComputedPaint(svg, copy);
  copy.setAttribute('xmlns', SVG_NS);
  copy.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink');
  const box = exportBox(svg);
  if (box) {
    copy.setAttribute('viewBox', box.join(' '));
    copy.setAttribute('width', String(box[2]));
    copy.setAttribute('height', String(box[3]));
  }
  // Reset any zoom transform: export the whole graph.
  copy.querySelectorAll('[data-meow-zoom]').forEach(g => g.removeAttribute('transform'));
  const doc = svg.ownerDocument;
  const style = doc.createElementNS(SVG_NS, 'style');
  style.textContent =
    'text{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;}' + (options.css ?? '');
  copy.insertBefore(style, copy.firstChild);
  if (options.background) {
    const bg = doc.createElementNS(SVG_NS, 'rect');
    bg.setAttribute('width', '100%');
    bg.setAttribute('height', '100%');
    bg.setAttribute('fill', options.background);
    copy.insertBefore(bg, style.nextSibling);
  }
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
}

/** Offer `blob` as a download named `filename`. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function downloadSvg(svg: SVGSVGElement, filename: string): void {
  downloadBlob(
    new Blob([svgToString(svg, { background: screenBackground(svg) })], { type: 'image/svg+xml' }),
    filename
  );
}

/** Render the SVG onto a canvas (`scale`× its size) and download it as PNG. */
export async function downloadPng(svg: SVGSVGElement, filename: string, scale = 2): Promise<void> {
  const text = svgToString(svg, { background: screenBackground(svg) });
  const box = exportBox(svg) ?? [0, 0, 800, 600];
  const width = Math.ceil(box[2] * scale);
  const height = Math.ceil(box[3] * scale);
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml;charset=utf-8' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the browser could not render the SVG'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    if (!ctx) {
      throw new Error('no 2D canvas available');
    }
    ctx.drawImage(img, 0, 0, width, height);
    const blob = await new Promise<Blob | null>(resolve => canvas.toBlob(resolve, 'image/png'));
    if (!blob) {
      throw new Error('the canvas could not be encoded as PNG');
    }
    downloadBlob(blob, filename);
  } finally {
    URL.revokeObjectURL(url);
  }
}
