import https from 'node:https';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is (for malformed-input tests) instead of JSON-encoding `body`. */
  rawBody?: string | Buffer;
  token?: string;
  headers?: Record<string, string>;
  cert?: string;
  key?: string;
}

/**
 * A plain HTTPS request against a test server, trusting only its CA (as real clients
 * pin it). Never throws for HTTP errors: tests assert on status and body.
 */
export function request<T = unknown>(baseUrl: string, ca: string, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const url = new URL(path, baseUrl);
  const payload = options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca,
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
        agent: false,
        headers: {
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            // not JSON: leave the text for the assertion to show
          }
          resolve({ status: res.statusCode ?? 0, body: body as T, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A client bound to one server and (optionally) one signed-in user. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly ca: string,
    public token?: string,
  ) {}

  get<T = unknown>(path: string, options: RequestOptions = {}) {
    return request<T>(this.baseUrl, this.ca, 'GET', path, { ...this.auth(), ...options });
  }

  post<T = unknown>(path: string, body?: unknown, options: RequestOptions = {}) {
    return request<T>(this.baseUrl, this.ca, 'POST', path, { ...this.auth(), ...(body !== undefined ? { body } : {}), ...options });
  }

  put<T = unknown>(path: string, body?: unknown, options: RequestOptions = {}) {
    return request<T>(this.baseUrl, this.ca, 'PUT', path, { ...this.auth(), ...(body !== undefined ? { body } : {}), ...options });
  }

  private auth(): RequestOptions {
    return this.token ? { token: this.token } : {};
  }
}
