/**
 * Code bench/console.ts runs inside the page (serialised by page.evaluate, so each
 * function is self-contained). Typechecked with the DOM library via tsconfig.web.json.
 */

/** rAF-to-rAF intervals while scrolling the fleet grid 600 px per frame to its end, or idling. */
export function measureFrames({ mode, frames }: { mode: 'scroll' | 'idle'; frames: number }): Promise<number[]> {
  return new Promise<number[]>((resolve) => {
    const body = document.querySelector('.fleet-grid__body');
    const deltas: number[] = [];
    let last = 0;
    let count = 0;
    const tick = (t: number) => {
      if (last) deltas.push(t - last);
      last = t;
      count += 1;
      if (mode === 'scroll' && body) {
        const before = body.scrollTop;
        body.scrollTop = before + 600;
        if (body.scrollTop === before) return resolve(deltas);
      } else if (count >= frames) {
        return resolve(deltas);
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

export function gridScrolledToEnd(): boolean {
  const body = document.querySelector('.fleet-grid__body');
  return body ? Math.abs(body.scrollHeight - body.clientHeight - body.scrollTop) < 2 : false;
}

/** Renders n rows as a plain table and resolves with the time to its first paint. */
export function paintPlainTable(n: number): Promise<number> {
  const rows: string[][] = [];
  for (let i = 0; i < n; i += 1) rows.push([`SFX-B${i}`, 'MEDRAD Stellant FLEX CT Injection System', 'Bench US Health', 'Site 1', 'online', 'just now', '0']);
  return new Promise<number>((resolve) => {
    const start = performance.now();
    const table = document.createElement('table');
    const body = document.createElement('tbody');
    for (const row of rows) {
      const tr = document.createElement('tr');
      for (const cell of row) {
        const td = document.createElement('td');
        td.textContent = cell;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    table.appendChild(body);
    document.body.appendChild(table);
    requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start), 0));
  });
}

/** The earliest paint time (Element Timing) of a fleet row's serial cell, or NaN. */
export function firstRowPaint(): Promise<number> {
  return new Promise<number>((resolve) => {
    const observer = new PerformanceObserver((list) => {
      const times = list
        .getEntries()
        .filter((e) => (e as PerformanceEntry & { identifier?: string }).identifier === 'fleet-row')
        .map((e) => (e as PerformanceEntry & { renderTime: number; loadTime: number }).renderTime || e.startTime);
      observer.disconnect();
      resolve(times.length ? Math.min(...times) : Number.NaN);
    });
    observer.observe({ type: 'element', buffered: true });
    setTimeout(() => resolve(Number.NaN), 2000);
  });
}
