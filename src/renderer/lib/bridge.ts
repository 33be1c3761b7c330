import type { BridgeMessage, IpcCallName, IpcError, IpcEventName, IpcEventPayload, IpcInput, IpcOutput, TetherBridge } from '#contract/ipc';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode. */
    tether?: TetherBridge;
  }
}

/** An error from a call, with the contract's code. */
export class BridgeError extends Error implements IpcError {
  readonly code: IpcError['code'];
  readonly details: Record<string, unknown> | undefined;
  constructor(error: IpcError) {
    super(error.message);
    this.code = error.code;
    this.details = error.details;
  }
}

/**
 * Browser mode's `window.tether`: the same typed surface over the loopback WebSocket the
 * console's main process opened (token from the URL fragment, kept for this tab only).
 * Calls made while (re)connecting wait for the socket.
 */
class SocketBridge implements TetherBridge {
  private socket: WebSocket | undefined;
  /** The socket had been open and closed: the next open is a reconnect. */
  private lost = false;
  private ready: Promise<WebSocket> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: BridgeError) => void }>();
  private readonly listeners = new Map<IpcEventName, Set<(payload: unknown) => void>>();

  constructor(private readonly token: string) {}

  invoke<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> {
    return this.open().then(
      (socket) =>
        new Promise<IpcOutput<K>>((resolve, reject) => {
          const id = this.nextId++;
          this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
          socket.send(JSON.stringify({ id, call: name, input }));
        }),
    );
  }

  on<E extends IpcEventName>(event: E, listener: (payload: IpcEventPayload<E>) => void): () => void {
    this.open().catch(() => undefined); // retried on close; calls report their own failures
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const untyped = listener as (payload: unknown) => void;
    set.add(untyped);
    return () => set.delete(untyped);
  }

  private open(): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.ready ??= new Promise<WebSocket>((resolve, reject) => {
      const url = `${location.origin.replace(/^http/, 'ws')}/bridge?token=${encodeURIComponent(this.token)}`;
      const socket = new WebSocket(url);
      socket.onopen = () => {
        const reopened = this.lost;
        this.socket = socket;
        this.lost = false;
        resolve(socket);
        if (reopened) this.resync();
      };
      socket.onmessage = (message) => this.receive(JSON.parse(String(message.data)) as BridgeMessage);
      socket.onclose = () => {
        if (this.socket === socket) this.lost = true;
        this.socket = undefined;
        this.ready = undefined;
        for (const p of this.pending.values()) p.reject(new BridgeError({ code: 'SERVER_UNREACHABLE', message: 'the console process is not reachable; is it still running?' }));
        this.pending.clear();
        reject(new BridgeError({ code: 'SERVER_UNREACHABLE', message: 'cannot reach the console process' }));
        // keep events flowing after a hiccup
        if (this.listeners.size) setTimeout(() => void this.open().catch(() => undefined), 1000);
      };
    });
    return this.ready;
  }

  /**
   * After the socket to the console process came back, events may have been missed: tell
   * the listeners with the current connection state marked `resumed`, so views reload.
   */
  private resync(): void {
    this.invoke('connection.get', {}).then(
      (state) => {
        if (!state) return;
        for (const listener of this.listeners.get('connection.state') ?? []) listener({ ...state, resumed: true });
      },
      () => undefined,
    );
  }

  private receive(message: BridgeMessage): void {
    if (message.type === 'event') {
      for (const listener of this.listeners.get(message.event) ?? []) listener(message.payload);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.ok) pending.resolve(message.output);
    else pending.reject(new BridgeError(message.error));
  }
}

/** Wraps the preload's bridge so its rejections are BridgeErrors too. */
function electronBridge(inner: TetherBridge): TetherBridge {
  return {
    invoke: (name, input) =>
      inner.invoke(name, input).catch((err: unknown) => {
        const e = err as Partial<IpcError> & Error;
        throw new BridgeError({ code: e.code ?? 'INTERNAL', message: e.message, ...(e.details ? { details: e.details } : {}) });
      }),
    on: (event, listener) => inner.on(event, listener),
    ...(inner.pathForFile ? { pathForFile: (file: Blob) => inner.pathForFile!(file) } : {}),
  };
}

const TOKEN_KEY = 'tether.bridgeToken';

/** Browser mode: this tab's launch token (it also opens the console process's file routes); null in Electron. */
export function bridgeToken(): string | null {
  return window.tether ? null : sessionStorage.getItem(TOKEN_KEY);
}

/** The bridge of this window: Electron's preload, or the browser-mode socket. */
export function connectBridge(): TetherBridge {
  if (window.tether) return electronBridge(window.tether);
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    history.replaceState(null, '', location.pathname);
  }
  const token = fromHash ?? sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new BridgeError({ code: 'UNAUTHENTICATED', message: 'open the console with the link the console process printed (it carries a one-time token)' });
  return new SocketBridge(token);
}
