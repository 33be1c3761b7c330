import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TetherError } from '#contract/errors';
import { writeFileAtomic } from '#node-lib/files';
import { TETHER_VERSION } from '#node-lib/version';
import { type HostMap, lookUpMapping, parseHostMap } from '../src/main/services/preflight/host-map.ts';
import type { PreflightProfile } from '#contract/preflight';
import { BUILT_IN_PROFILES, builtInProfile, importPreflightProfile, isBuiltInProfile, resolveTargets } from '../src/main/services/preflight/profiles.ts';
import { buildReport, reportExitCode, reportToText } from '../src/main/services/preflight/report.ts';
import { reportToHtml } from '../src/main/services/preflight/report-html.ts';
import { runPreflight } from '../src/main/services/preflight/run.ts';
import { splitPemCertificates } from '../src/main/services/preflight/trust.ts';

/**
 * `npm run preflight`: the network pre-flight for IT staff without the console. Exit
 * status 0 ready, 1 ready with warnings, 2 blocked, 64 bad usage (sysexits EX_USAGE),
 * 130 interrupted.
 */

const EXIT_USAGE = 64;
const EXIT_INTERRUPTED = 130;

const USAGE = `usage: npm run preflight -- --profile ${BUILT_IN_PROFILES.map((p) => p.id).join('|')}|FILE.json
         [--proxy http://[user:pass@]host:port] [--map name[:port]=address[:port],...]
         [--ca FILE] [--timeout-ms N] [--concurrency N] [--json] [--html FILE]`;

class UsageError extends Error {}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

function wholeNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} takes a whole number, not "${text}"`);
  return Number(text);
}

function loadProfile(spec: string): PreflightProfile {
  const builtIn = builtInProfile(spec);
  if (builtIn) return builtIn;
  if (!spec.endsWith('.json')) throw new UsageError(`unknown profile "${spec}": use ${BUILT_IN_PROFILES.map((p) => p.id).join(' or ')}, or a profile file ending in .json`);
  return importPreflightProfile(readText(spec, 'the profile file'));
}

/** Our machines must never contact the real hosts of a built-in profile: under CI every one is mapped. */
function refuseUnmappedUnderCi(profile: PreflightProfile, hostMap: HostMap): void {
  if (!process.env.CI || !isBuiltInProfile(profile)) return;
  const unmapped = resolveTargets(profile).filter((t) => !lookUpMapping(hostMap, t.host, t.port)).map((t) => `${t.host}:${t.port}`);
  if (unmapped.length > 0) {
    throw new UsageError(
      `CI is set: refusing to contact the real hosts of the built-in profile "${profile.id}"; map every one with --map (${unmapped.length} unmapped: ${unmapped.slice(0, 4).join(', ')}${unmapped.length > 4 ? ', …' : ''})`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      profile: { type: 'string' },
      proxy: { type: 'string' },
      map: { type: 'string', multiple: true },
      ca: { type: 'string', multiple: true },
      'timeout-ms': { type: 'string' },
      concurrency: { type: 'string' },
      json: { type: 'boolean' },
      html: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.profile) throw new UsageError('--profile is required');
  const profile = loadProfile(values.profile);
  const hostMap = parseHostMap(values.map ?? []);
  refuseUnmappedUnderCi(profile, hostMap);
  const trustedCaPems = (values.ca ?? []).flatMap((path) => splitPemCertificates(readText(path, 'the CA file')));

  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once('SIGINT', onInterrupt);
  const showProgress = process.stderr.isTTY;
  const run = await runPreflight({
    profile,
    hostMap,
    proxy: values.proxy ? { url: values.proxy } : null,
    trustedCaPems,
    timeoutMs: wholeNumber(values['timeout-ms'], '--timeout-ms'),
    concurrency: wholeNumber(values.concurrency, '--concurrency'),
    signal: controller.signal,
    onProgress: (event) => {
      if (showProgress && event.kind === 'check-finished') {
        process.stderr.write(`[${event.index + 1}/${event.total}] ${event.row.host}:${event.row.port} ${event.row.problem?.kind ?? 'ok'}\n`);
      }
    },
  });
  process.off('SIGINT', onInterrupt);

  const report = buildReport(run, TETHER_VERSION);
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : reportToText(report));
  if (values.html) {
    try {
      writeFileAtomic(values.html, reportToHtml(report), 0o644);
    } catch (err) {
      throw new UsageError(`cannot write the HTML report to ${values.html}: ${(err as Error).message}`);
    }
  }
  return run.canceled ? EXIT_INTERRUPTED : reportExitCode(report);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // bad flags, files, profiles, mappings and settings are all the caller's to fix
    const known = err instanceof UsageError || err instanceof TetherError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
    const message = err instanceof TetherError ? `${err.message} [${err.code}]` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`preflight: ${message}\n${known ? `${USAGE}\n` : ''}`);
    process.exitCode = known ? EXIT_USAGE : 70;
  },
);
