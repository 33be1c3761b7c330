import type { ProxyRoute } from '#node-lib/proxy-resolver';

type ProxyHop = Extract<ProxyRoute, { kind: 'proxy' }>;

const CHOOSERS = { manual: undefined, pac: 'the PAC script', system: 'the system proxy settings' } as const;

/** Who chose a proxy, in words; undefined for the manual proxy the user typed in. */
export function proxyChooser(route: ProxyHop): string | undefined {
  return CHOOSERS[route.chosenBy];
}

/**
 * What the user does when a proxy answers 407, in the console's words: a proxy chosen by
 * PAC or the system gets its credentials from a "Proxy sign-in" for its `host:port`.
 */
export function proxySignInAdvice(route: ProxyHop): string {
  const hostPort = route.url.replace(/^[a-z]+:\/\//i, '');
  if (route.chosenBy === 'manual') {
    return route.username
      ? `check the manual proxy's user name "${route.username}" and password under Network settings`
      : 'give the manual proxy a user name and password under Network settings';
  }
  return route.username
    ? `the sign-in saved for ${hostPort} (user "${route.username}") was not accepted; correct it under Network settings → Proxy sign-in`
    : `add a sign-in for ${hostPort} under Network settings → Proxy sign-in`;
}
