import http from 'node:http';
import { type ServiceStatus, type ServiceStatusSource, formatValue, serviceStatus } from './status.ts';

/** How often the page fetches a fresh status. */
export const PAGE_REFRESH_MS = 2000;

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function rows(status: ServiceStatus): { items: string; alarms: string; events: string } {
  return {
    items: status.items.map((i) => `<tr><th>${escapeHtml(i.label)}</th><td>${escapeHtml(formatValue(i.value, i.unit))}</td></tr>`).join(''),
    alarms: status.alarms.length === 0
      ? '<li class="none">No alarms raised</li>'
      : status.alarms.map((a) => `<li class="${escapeHtml(a.severity)}"><b>${escapeHtml(a.code)}</b> ${escapeHtml(a.message)}</li>`).join(''),
    events: status.events.length === 0
      ? '<li class="none">No events yet</li>'
      : status.events.map((e) => `<li><time>${escapeHtml(e.at)}</time> ${escapeHtml(e.message)}</li>`).join(''),
  };
}

/**
 * The page itself: rendered complete on the server (usable without script), then kept
 * live by a small script that fetches `/status.json` and redraws the same parts.
 */
export function servicePageHtml(status: ServiceStatus): string {
  const parts = rows(status);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(status.serial)} — service page</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#1d2630;background:#f4f6f8}
h1{font-size:20px;margin:0 0 4px}p.sub{margin:0 0 16px;color:#5b6875}
section{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:12px 16px;margin-bottom:12px;max-width:720px}
h2{font-size:15px;margin:0 0 8px}table{border-collapse:collapse}th{text-align:left;font-weight:500;padding:2px 24px 2px 0;color:#5b6875}
ul{margin:0;padding-left:18px}li.none{list-style:none;margin-left:-18px;color:#5b6875}li.critical,li.major{color:#b42318}
#state{font-weight:600}time{color:#5b6875;font-variant-numeric:tabular-nums}
</style></head><body>
<h1>${escapeHtml(status.model)}</h1>
<p class="sub">Serial <b>${escapeHtml(status.serial)}</b> · software ${escapeHtml(status.softwareVersion)} · state <span id="state">${escapeHtml(status.state)}</span> · updated <time id="at">${escapeHtml(status.at)}</time></p>
<section><h2>Data items</h2><table><tbody id="items">${parts.items}</tbody></table></section>
<section><h2>Alarms</h2><ul id="alarms">${parts.alarms}</ul></section>
<section><h2>Recent events</h2><ul id="events">${parts.events}</ul></section>
<script>
const esc = (t) => String(t).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]);
const fmt = (v, u) => v === null || v === '' ? '—' : (typeof v === 'number' ? String(Math.round(v * 100) / 100) : String(v)) + (u ? ' ' + u : '');
async function refresh() {
  try {
    const s = await (await fetch('/status.json', { cache: 'no-store' })).json();
    document.getElementById('state').textContent = s.state;
    document.getElementById('at').textContent = s.at;
    document.getElementById('items').innerHTML = s.items.map((i) => '<tr><th>' + esc(i.label) + '</th><td>' + esc(fmt(i.value, i.unit)) + '</td></tr>').join('');
    document.getElementById('alarms').innerHTML = s.alarms.length === 0 ? '<li class="none">No alarms raised</li>' : s.alarms.map((a) => '<li class="' + esc(a.severity) + '"><b>' + esc(a.code) + '</b> ' + esc(a.message) + '</li>').join('');
    document.getElementById('events').innerHTML = s.events.length === 0 ? '<li class="none">No events yet</li>' : s.events.map((e) => '<li><time>' + esc(e.at) + '</time> ' + esc(e.message) + '</li>').join('');
  } catch { /* the tunnel may be closing; the next round tries again */ }
}
setInterval(refresh, ${PAGE_REFRESH_MS});
</script>
</body></html>`;
}

/**
 * The simulated HTTP service page: `GET /` (the page) and `GET /status.json` (its live
 * data) on loopback; anything else is a plain 404 or 405, as a device's web server would say.
 */
export function createServicePage(source: ServiceStatusSource): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    const status = serviceStatus(source);
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(servicePageHtml(status));
    } else if (path === '/status.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(status));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
}
