/**
 * The console's security policy as pure functions, so every rule is unit-tested without
 * Electron. src/main/index.ts applies them to the real window, session and protocol.
 */

/** The renderer's origin in Electron: a privileged custom scheme, never file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'tether';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** Hosts `shell.openExternal` may open: documentation and support pages only. */
export const EXTERNAL_ALLOWLIST: readonly string[] = ['docs.tether.example', 'support.tether.example'];

/** Parses a URL, or undefined when it is not one. */
function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * Whether `url` belongs to the app. Origins are compared after parsing — scheme and host
 * exactly — never with startsWith (`app://tether.evil.com` is not the app).
 */
export function isAppUrl(url: string, appOrigin: string = APP_ORIGIN): boolean {
  const parsed = parse(url);
  const app = parse(appOrigin);
  if (!parsed || !app) return false;
  return parsed.protocol === app.protocol && parsed.host === app.host;
}

/** `will-navigate`: only within the app. */
export function allowNavigation(url: string, appOrigin: string = APP_ORIGIN): boolean {
  return isAppUrl(url, appOrigin);
}

/** Whether a link may be handed to the system browser: https and an allow-listed host. */
export function isExternalAllowed(url: string): boolean {
  const parsed = parse(url);
  return Boolean(parsed && parsed.protocol === 'https:' && !parsed.username && !parsed.password && EXTERNAL_ALLOWLIST.includes(parsed.hostname));
}

/**
 * `setWindowOpenHandler`: the app never opens windows. An allow-listed https link goes to
 * the system browser instead; anything else is simply denied.
 */
export function decideWindowOpen(url: string): { action: 'deny'; openExternally: boolean } {
  return { action: 'deny', openExternally: isExternalAllowed(url) };
}

/** Permission requests (camera, notifications, geolocation, …): denied, all of them. */
export function decidePermission(_permission: string): boolean {
  return false;
}

/** The BrowserWindow webPreferences the console runs with. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
  } as const;
}

/**
 * The Content-Security-Policy header: scripts only from the app itself, no eval, no
 * plugins, no framing. Styles allow inline attributes (the component library sets them).
 */
export function contentSecurityPolicy(options: { connectSrc?: readonly string[] } = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${options.connectSrc?.length ? ` ${options.connectSrc.join(' ')}` : ''}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Whether secrets may be persisted with Electron's safeStorage on this system. On Linux,
 * `basic_text` means no keyring: the "encryption" is a hard-coded key, so we refuse.
 */
export function safeStoragePersistable(encryptionAvailable: boolean, linuxBackend: string | undefined): { ok: boolean; reason?: string } {
  if (!encryptionAvailable) return { ok: false, reason: 'the system offers no secret storage' };
  if (linuxBackend === 'basic_text') {
    return { ok: false, reason: 'no system keyring found (safeStorage backend basic_text); sign-in will not be remembered' };
  }
  return { ok: true };
}
