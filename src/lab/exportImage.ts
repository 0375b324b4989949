/**
 * Export a drawn SVG graph as a standalone SVG file or as a PNG. The views
 * set colours as attributes (not through theme CSS variables), so the file
 * looks the same outside JupyterLab.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A standalone SVG document of `svg` (copied; the page is not changed). */
export function svgToString(svg: SVGSVGElement, options: { background?: string; css?: string } = {}): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute('xmlns', SVG_NS);
  copy.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink');
  const box = svg.getAttribute('viewBox')?.split(/[ ,]+/).map(Number);
  if (box && box.length === 4) {
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
  downloadBlob(new Blob([svgToString(svg, { background: '#ffffff' })], { type: 'image/svg+xml' }), filename);
}

/** Render the SVG onto a canvas (`scale`× its size) and download it as PNG. */
export async function downloadPng(svg: SVGSVGElement, filename: string, scale = 2): Promise<void> {
  const text = svgToString(svg, { background: '#ffffff' });
  const box = (svg.getAttribute('viewBox') ?? '0 0 800 600').split(/[ ,]+/).map(Number);
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
