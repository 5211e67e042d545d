import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  rawBody: string;
}

export interface FakeResponse {
  status: number;
  body: unknown;
  contentType?: string;
}

/**
 * A loopback HTTP server for contract tests: every request is recorded, answered by `route`,
 * unless a failure was queued for its path.
 */
export class HttpFake {
  readonly requests: RecordedRequest[] = [];
  private readonly failures: { match: RegExp; response: FakeResponse }[] = [];
  private server: http.Server | undefined;
  url = '';

  constructor(private readonly route: (request: RecordedRequest) => FakeResponse | Promise<FakeResponse>) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: unknown = rawBody;
        try {
          body = rawBody ? JSON.parse(rawBody) : undefined;
        } catch {
          // not JSON: kept raw
        }
        const request: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, rawBody };
        this.requests.push(request);
        const index = this.failures.findIndex((failure) => failure.match.test(request.path));
        const response = index >= 0 ? this.failures.splice(index, 1)[0]!.response : await this.route(request);
        res.writeHead(response.status, { 'content-type': response.contentType ?? 'application/json' });
        res.end(typeof response.body === 'string' ? response.body : JSON.stringify(response.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The next request whose path matches gets this response instead. */
  failNext(match: RegExp, response: FakeResponse): void {
    this.failures.push({ match, response });
  }

  /** Requests whose path matches, in order. */
  to(match: RegExp): RecordedRequest[] {
    return this.requests.filter((request) => match.test(request.path));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
