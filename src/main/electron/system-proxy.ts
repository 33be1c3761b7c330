import type { Session } from 'electron';
import type { SystemProxyLookup } from '#node-lib/proxy-resolver';

/**
 * "System proxy" in Electron: Chromium's own resolution (OS settings, WPAD, the OS's PAC)
 * answers per URL in PAC form. A session of its own, pinned to system mode, so nothing
 * set on the window's session changes the answer.
 */
export function electronSystemProxy(fromPartition: (partition: string) => Session): SystemProxyLookup {
  const resolver = fromPartition('tether-system-proxy');
  const ready = resolver.setProxy({ mode: 'system' });
  // a failure surfaces to the first lookup below, which awaits it
  ready.catch(() => undefined);
  return async (url) => {
    await ready;
    return resolver.resolveProxy(url);
  };
}
