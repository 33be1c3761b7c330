import { randomUUID } from 'node:crypto';
import { TetherError } from '#contract/errors';
import type { PreflightProfileEntry } from '#contract/ipc';
import type { CheckRow, PreflightProfile, PreflightReport } from '#contract/preflight';
import type { EventHub, HandlerSlice } from '../dispatch.ts';
import { type HostMap, lookUpMapping, parseHostMap } from './preflight/host-map.ts';
import { BUILT_IN_PROFILES, exportPreflightProfile, importPreflightProfile, parsePreflightProfile, profileForServer, resolveTargets } from './preflight/profiles.ts';
import { buildReport } from './preflight/report.ts';
import { reportToHtml } from './preflight/report-html.ts';
import { runPreflight } from './preflight/run.ts';
import { judgeRows } from './preflight/verdict.ts';
import { type PreflightProxy, proxyEndpoint } from './preflight/proxy-tunnel.ts';
import type { SettingsStore } from './settings.ts';

/** Prints a report's HTML to a PDF the user places (Electron); null when they canceled. */
export interface ReportPdfPrinter {
  savePdf(html: string, suggestedName: string): Promise<string | null>;
}

/** The server the console is signed in to, as the derived profile needs it. */
export interface SignedInServer {
  url: string;
  /** The CA the connection pins: a run trusts it, so the server's own rows are judged fairly. */
  caPem: string | null;
  /** The tunnel relay's ports, once the server told them. */
  relayPorts?: readonly number[];
}

export interface PreflightServiceDeps {
  settings: SettingsStore;
  events: EventHub;
  /** TETHER_PREFLIGHT_MAP: the CLI's --map syntax; sends profile names to other addresses. */
  hostMapText: string | undefined;
  /** Under CI no built-in profile may contact its real hosts (as the CLI refuses). */
  ci: boolean;
  generatorVersion: string;
  server: () => SignedInServer | null;
  /** Electron only; browser mode prints the HTML in the page instead. */
  printer: ReportPdfPrinter | null;
  /** The console's manual proxy with its vault password: a run naming that proxy uses its credentials. */
  consoleProxy?: () => PreflightProxy | null;
  timeoutMs?: number;
}

interface RunRecord {
  controller: AbortController;
  report: PreflightReport | null;
}

/** Finished runs kept for their reports; older ones are dropped. */
const KEPT_RUNS = 20;
const SERVER_PROFILE_ID = 'tether-server';

/** Whether two proxy URLs name the same proxy (the field may carry a trailing slash). */
function sameProxy(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    // not a URL: proxyEndpoint refuses it with its own message just after
    return false;
  }
}

const reportFileName = (report: PreflightReport, ext: string) => `preflight-${report.profile.id}-${report.startedAt.slice(0, 19).replace(/[:T]/g, '-')}.${ext}`;

/**
 * The console's pre-flight: profiles (built-in, the user's, the signed-in server's),
 * runs with live progress events, and their reports. Runs go through the host-name
 * mapping from the environment, so tests and demos reach loopback stand-ins only.
 */
export class PreflightService {
  private readonly runs = new Map<string, RunRecord>();

  constructor(private readonly deps: PreflightServiceDeps) {}

  /** Cancels every run still going (the console is closing). */
  shutdown(): void {
    for (const run of this.runs.values()) run.controller.abort();
  }

  readonly handlers: HandlerSlice<'preflight.'> = {
    'preflight.profiles': () => ({ profiles: this.entries() }),
    'preflight.saveProfile': ({ profile: input }) => {
      const profile = parsePreflightProfile(input);
      if (BUILT_IN_PROFILES.some((p) => p.id === profile.id) || profile.id === SERVER_PROFILE_ID) {
        throw new TetherError('CONFLICT', `"${profile.id}" is the id of a profile that comes with the console; give yours another id`);
      }
      this.deps.settings.update((s) => ({ ...s, preflightProfiles: [...s.preflightProfiles.filter((p) => p.id !== profile.id), profile] }));
      return profile;
    },
    'preflight.deleteProfile': ({ id }) => {
      if (!this.deps.settings.get().preflightProfiles.some((p) => p.id === id)) throw new TetherError('NOT_FOUND', `no custom pre-flight profile "${id}"`);
      this.deps.settings.update((s) => ({ ...s, preflightProfiles: s.preflightProfiles.filter((p) => p.id !== id) }));
      return {};
    },
    'preflight.importProfile': ({ json }) => importPreflightProfile(json),
    'preflight.exportProfile': ({ id }) => {
      const profile = this.profile(id);
      return { fileName: `${profile.id}.preflight.json`, json: exportPreflightProfile(profile) };
    },
    'preflight.run': ({ profileId, proxy: given }) => {
      const profile = this.profile(profileId);
      const hostMap = this.hostMap();
      this.refuseUnmappedUnderCi(profile, hostMap);
      const consoleProxy = this.deps.consoleProxy?.() ?? null;
      const proxy = given && consoleProxy && !given.username && !given.password && sameProxy(given.url, consoleProxy.url) ? consoleProxy : given;
      // a bad proxy URL is the caller's error now, not a failed run later
      if (proxy) proxyEndpoint(proxy);
      const runId = randomUUID();
      const record: RunRecord = { controller: new AbortController(), report: null };
      this.keep(runId, record);
      const server = this.deps.server();
      // started on the next turn so the caller has its runId before the first event
      setImmediate(() => void this.execute(runId, record, profile, hostMap, proxy ?? null, server?.caPem ?? null));
      return { runId, targets: resolveTargets(profile).map(({ host, port, protocol }) => ({ host, port, protocol })) };
    },
    'preflight.cancel': ({ runId }) => {
      this.run(runId).controller.abort();
      return {};
    },
    'preflight.report': ({ runId, format }) => {
      const report = this.finishedReport(runId);
      return format === 'json'
        ? { fileName: reportFileName(report, 'json'), text: `${JSON.stringify(report, null, 2)}\n` }
        : { fileName: reportFileName(report, 'html'), text: reportToHtml(report) };
    },
    'preflight.savePdf': async ({ runId }) => {
      const report = this.finishedReport(runId);
      if (!this.deps.printer) {
        throw new TetherError('METHOD_NOT_ALLOWED', 'saving a PDF needs the desktop console; in the browser, open the printable report and print it to PDF');
      }
      return { path: await this.deps.printer.savePdf(reportToHtml(report), reportFileName(report, 'pdf')) };
    },
  };

  private entries(): PreflightProfileEntry[] {
    const entries: PreflightProfileEntry[] = [
      ...BUILT_IN_PROFILES.map((profile) => ({ source: 'built-in' as const, profile })),
      ...this.deps.settings.get().preflightProfiles.map((profile) => ({ source: 'custom' as const, profile })),
    ];
    const server = this.deps.server();
    if (server) entries.push({ source: 'server', profile: profileForServer(server.url, server.relayPorts) });
    return entries;
  }

  private profile(id: string): PreflightProfile {
    const entry = this.entries().find((e) => e.profile.id === id);
    if (!entry) throw new TetherError('NOT_FOUND', id === SERVER_PROFILE_ID ? 'sign in to check the network path to the server' : `no pre-flight profile "${id}"`);
    return entry.profile;
  }

  /** Parsed on each run, so a bad variable is a clear error on Run rather than a console that will not start. */
  private hostMap(): HostMap {
    try {
      return parseHostMap(this.deps.hostMapText ?? '');
    } catch (err) {
      if (err instanceof TetherError) throw new TetherError('CONFIG_INVALID', `TETHER_PREFLIGHT_MAP: ${err.message}`);
      throw err;
    }
  }

  private refuseUnmappedUnderCi(profile: PreflightProfile, hostMap: HostMap): void {
    if (!this.deps.ci || !BUILT_IN_PROFILES.some((p) => p.id === profile.id)) return;
    const unmapped = resolveTargets(profile).filter((t) => !lookUpMapping(hostMap, t.host, t.port));
    if (unmapped.length > 0) {
      throw new TetherError(
        'FORBIDDEN',
        `CI is set: refusing to contact the real hosts of the built-in profile "${profile.id}"; map every one in TETHER_PREFLIGHT_MAP (${unmapped.length} unmapped, e.g. ${unmapped[0]?.host}:${unmapped[0]?.port})`,
      );
    }
  }

  private async execute(runId: string, record: RunRecord, profile: PreflightProfile, hostMap: HostMap, proxy: PreflightProxy | null, caPem: string | null): Promise<void> {
    const finished: CheckRow[] = [];
    try {
      const run = await runPreflight({
        profile,
        hostMap,
        proxy,
        trustedCaPems: caPem ? [caPem] : [],
        timeoutMs: this.deps.timeoutMs,
        signal: record.controller.signal,
        onProgress: (event) => {
          if (event.kind === 'check-started') {
            this.deps.events.emit('preflight.progress', { kind: 'check-started', runId, index: event.index, total: event.total });
            return;
          }
          finished.push(event.row);
          // judged against the rows so far; the report re-judges once every fallback is known
          const verdict = judgeRows(finished).at(-1) ?? { level: 'not-run' as const, reason: null };
          this.deps.events.emit('preflight.progress', { kind: 'check-finished', runId, index: event.index, total: event.total, row: event.row, verdict });
        },
      });
      record.report = buildReport(run, this.deps.generatorVersion);
      this.deps.events.emit('preflight.progress', { kind: 'finished', runId, canceled: run.canceled, report: record.report });
    } catch (err) {
      const error = err instanceof TetherError ? err : new TetherError('INTERNAL', `the pre-flight stopped unexpectedly: ${(err as Error).message}`);
      this.deps.events.emit('preflight.progress', { kind: 'failed', runId, code: error.code, message: error.message });
    }
  }

  private keep(runId: string, record: RunRecord): void {
    this.runs.set(runId, record);
    for (const id of this.runs.keys()) {
      if (this.runs.size <= KEPT_RUNS) break;
      if (this.runs.get(id)?.report) this.runs.delete(id);
    }
  }

  private run(runId: string): RunRecord {
    const record = this.runs.get(runId);
    if (!record) throw new TetherError('NOT_FOUND', 'that pre-flight run is not known (the console keeps the last 20)');
    return record;
  }

  private finishedReport(runId: string): PreflightReport {
    const report = this.run(runId).report;
    if (!report) throw new TetherError('CONFLICT', 'the pre-flight is still running; its report is ready when it finishes');
    return report;
  }
}
