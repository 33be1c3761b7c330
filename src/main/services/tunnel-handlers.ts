import { TetherError } from '#contract/errors';
import type { HandlerSlice } from '../dispatch.ts';
import type { TunnelManager } from './tunnels/tunnel-manager.ts';
import type { TunnelTerminals } from './tunnels/tunnel-terminals.ts';

export interface TunnelHandlerDeps {
  tunnels: TunnelManager;
  terminals: TunnelTerminals;
  /** Opens a URL in the system browser. */
  openExternal: (url: string) => Promise<void>;
}

/** Tunnels to a device's service ports: open and close them, show a web target in the browser, carry a terminal. */
export function tunnelHandlers({ tunnels, terminals, openExternal }: TunnelHandlerDeps): HandlerSlice<'tunnels.'> {
  return {
    'tunnels.list': () => ({ items: tunnels.list() }),
    'tunnels.open': (input) => tunnels.open(input),
    'tunnels.close': ({ id }) => tunnels.close(id),
    'tunnels.openInBrowser': async ({ id }) => {
      const tunnel = tunnels.get(id);
      if (tunnel.kind !== 'http' || tunnel.closed || tunnel.localPort === null) throw new TetherError('TUNNEL_NOT_OPEN', 'only an open tunnel to a web page opens in the browser');
      // the URL is built here from the tunnel's own port: the renderer cannot name another
      await openExternal(`http://127.0.0.1:${tunnel.localPort}/`);
      return {};
    },
    'tunnels.terminal.open': async ({ id }) => ({ terminalId: await terminals.open(id) }),
    'tunnels.terminal.write': ({ terminalId, data }) => {
      terminals.write(terminalId, data);
      return {};
    },
    'tunnels.terminal.close': ({ terminalId }) => {
      terminals.close(terminalId);
      return {};
    },
  };
}
