import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bootGateway, eventually, gql, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { connectRaw } from './helpers/ws.js';
import { CreateCallDocument } from './gql/graphql.js';

let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({
    simulator: 'frozen',
    env: { WS_INIT_TIMEOUT_MS: '300', WS_MAX_OPERATIONS_PER_SOCKET: '3', WS_MAX_OPERATIONS_PER_KEY: '5', WS_MAX_PAYLOAD_BYTES: '4096' },
    config: { authCacheTtlMs: 200 },
  });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

const auth = () => ({ authorization: `Bearer ${app.testKey}` });
const SUB = (n: number) => ({ id: String(n), type: 'subscribe', payload: { query: 'subscription { callStatus { sequence } }' } });

/** Sends subscribe messages and collects the server's messages by id. */
function messages(socket: WebSocket): Map<string, any[]> {
  const byId = new Map<string, any[]>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (!message.id) return;
    byId.set(message.id, [...(byId.get(message.id) ?? []), message]);
  });
  return byId;
}

describe('WebSocket limits', () => {
  it('500 sockets that never send connection_init are all closed with 4408', async () => {
    const closes = await Promise.all(
      Array.from(
        { length: 500 },
        () =>
          new Promise<number>((resolve, reject) => {
            const socket = new WebSocket(gw.wsUrl, 'graphql-transport-ws');
            socket.once('error', reject);
            socket.once('close', (code) => resolve(code));
          }),
      ),
    );
    expect(closes).toHaveLength(500);
    expect(new Set(closes)).toEqual(new Set([4408]));
  });

  it('an oversized frame closes the socket (1009) before it is buffered', async () => {
    const { socket, acked } = await connectRaw(gw.wsUrl, auth());
    expect(acked).toBe(true);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ calls { totalCount } } # ${'x'.repeat(8_000)}` } }));
    expect(await closed).toBe(1009);
  });

  it('the (N+1)th operation on one socket is refused; the others keep running', async () => {
    const { socket } = await connectRaw(gw.wsUrl, auth());
    try {
      const byId = messages(socket);
      for (let n = 1; n <= 4; n++) socket.send(JSON.stringify(SUB(n)));
      await eventually(() => byId.has('4'), 5_000, 'the fourth answer');
      expect(byId.get('4')![0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'RATE_LIMITED' } }] });
      expect(byId.has('1') || byId.has('2') || byId.has('3')).toBe(false);
      // A call's first event reaches the three admitted subscriptions.
      await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
      await eventually(() => ['1', '2', '3'].every((id) => byId.get(id)?.some((m) => m.type === 'next')), 5_000, 'events on 1, 2, 3');
      // Completing one makes room for another.
      socket.send(JSON.stringify({ id: '2', type: 'complete' }));
      let next = 10;
      await eventually(
        async () => {
          const id = String(next++);
          socket.send(JSON.stringify(SUB(Number(id))));
          await new Promise((resolve) => setTimeout(resolve, 50));
          return !byId.has(id);
        },
        5_000,
        'room for one more',
      );
    } finally {
      socket.close();
    }
  });

  it('the per-key cap holds across sockets', async () => {
    const other = await newApp(gw.admin, 'per-key');
    const sockets = await Promise.all([1, 2].map(() => connectRaw(gw.wsUrl, { authorization: `Bearer ${other.testKey}` })));
    try {
      const [a, b] = sockets.map(({ socket }) => ({ socket, byId: messages(socket) }));
      for (let n = 1; n <= 3; n++) a!.socket.send(JSON.stringify(SUB(n)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let n = 1; n <= 3; n++) b!.socket.send(JSON.stringify(SUB(n)));
      await eventually(() => b!.byId.has('3'), 5_000, 'the sixth answer');
      expect(b!.byId.get('3')![0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'RATE_LIMITED' } }] });
      expect(b!.byId.has('1') || b!.byId.has('2')).toBe(false);
    } finally {
      for (const { socket } of sockets) socket.close();
    }
  });

  it('operations refused after admission (no such operation, parse and validation errors) give their place back: 30 of them, then 3 subscriptions still fit', async () => {
    const other = await newApp(gw.admin, 'refusals');
    const { socket } = await connectRaw(gw.wsUrl, { authorization: `Bearer ${other.testKey}` });
    try {
      const byId = messages(socket);
      const refusals = [
        { query: 'subscription A { callStatus { sequence } }', operationName: 'B' },
        { query: 'subscription A { callStatus { sequence } } subscription B { callStatus { status } }' },
        { query: 'subscription { callStatus {' },
        { query: 'subscription { callStatus { nope } }' },
      ];
      for (let n = 0; n < 30; n++) socket.send(JSON.stringify({ id: `r${n}`, type: 'subscribe', payload: refusals[n % refusals.length] }));
      await eventually(() => Array.from({ length: 30 }, (_, n) => `r${n}`).every((id) => byId.has(id)), 5_000, 'every refusal');
      for (let n = 0; n < 30; n++) expect(byId.get(`r${n}`)![0]).toMatchObject({ type: 'error' });
      for (let n = 1; n <= 3; n++) socket.send(JSON.stringify(SUB(n)));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(byId.has('1') || byId.has('2') || byId.has('3')).toBe(false);
    } finally {
      socket.close();
    }
  });

  it('revoking a key ends its open subscriptions (4403)', async () => {
    const doomed = await newApp(gw.admin, 'doomed');
    const { socket } = await connectRaw(gw.wsUrl, { authorization: `Bearer ${doomed.testKey}` });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify(SUB(1)));
    const keyId = (await gw.database.sql.query<{ id: string }>(`SELECT id FROM api_key WHERE app_id = $1 AND mode = 'test'`, [doomed.id]))[0]!.id;
    await gw.admin.revokeKey(keyId);
    expect(await closed).toBe(4403);
  });
});

describe('WebSocket connections per key and per address', () => {
  let capped: TestGateway;
  beforeAll(async () => {
    capped = await bootGateway({
      env: {
        WS_MAX_CONNECTIONS_PER_KEY: '3',
        WS_MAX_CONNECTIONS_PER_ADDRESS: '5',
        WS_MAX_CONNECTIONS_PER_TOKEN: '2',
        ACCESS_TOKEN_KEYS: `k1:${'t'.repeat(40)}`,
      },
    });
  });
  afterAll(() => capped.stop());

  function open(key: string, localAddress = '127.0.0.1'): Promise<{ socket: WebSocket; acked: boolean; closeCode: number | null }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(capped.wsUrl, 'graphql-transport-ws', { localAddress });
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })));
      socket.on('message', (data) => {
        if (JSON.parse(String(data)).type === 'connection_ack') resolve({ socket, acked: true, closeCode: null });
      });
      socket.once('close', (code) => resolve({ socket, acked: false, closeCode: code }));
    });
  }

  it('a key past its cap and an address past its cap are closed with 4429; another address and a freed place are not affected', async () => {
    const one = await newApp(capped.admin, 'one');
    const two = await newApp(capped.admin, 'two');
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const opened = await open(one.testKey);
        expect(opened.acked).toBe(true);
        sockets.push(opened.socket);
      }
      const fourth = await open(one.testKey);
      expect(fourth).toMatchObject({ acked: false, closeCode: 4429 });
      for (let i = 0; i < 2; i++) {
        const opened = await open(two.testKey);
        expect(opened.acked).toBe(true);
        sockets.push(opened.socket);
      }
      // Five open from 127.0.0.1: the sixth is closed whatever its key.
      expect(await open(two.testKey)).toMatchObject({ acked: false, closeCode: 4429 });
      const elsewhere = await open(two.testKey, '127.0.0.2');
      expect(elsewhere.acked).toBe(true);
      sockets.push(elsewhere.socket);
      // Closing one of the first key's sockets makes room for it again.
      const closed = new Promise((resolve) => sockets[0]!.once('close', resolve));
      sockets[0]!.close();
      await closed;
      await eventually(
        async () => {
          const again = await open(one.testKey);
          if (again.acked) sockets.push(again.socket);
          return again.acked;
        },
        5_000,
        'room for the key again',
      );
    } finally {
      for (const socket of sockets) socket.close();
    }
  });

  it("an access token's sockets are its own: past WS_MAX_CONNECTIONS_PER_TOKEN it gets 4429, while another token and the minting key keep theirs", async () => {
    const three = await newApp(capped.admin, 'three');
    const mint = async () =>
      (
        await rawGql(capped.url, three.testKey, {
          query: 'mutation { createAccessToken(input: { scopes: [STATUS_SUBSCRIBE] }) { token } }',
        })
      ).data.createAccessToken.token as string;
    const [a, b] = [await mint(), await mint()];
    const sockets: WebSocket[] = [];
    const keep = async (key: string, from: string) => {
      const opened = await open(key, from);
      expect(opened.acked).toBe(true);
      sockets.push(opened.socket);
    };
    try {
      await keep(a, '127.0.0.3');
      await keep(a, '127.0.0.3');
      expect(await open(a, '127.0.0.3')).toMatchObject({ acked: false, closeCode: 4429 });
      // One browser user at its cap takes nothing from the others, nor from the backend's key.
      await keep(b, '127.0.0.4');
      await keep(b, '127.0.0.4');
      for (let i = 0; i < 3; i++) await keep(three.testKey, '127.0.0.5');
      expect(await open(three.testKey, '127.0.0.5')).toMatchObject({ acked: false, closeCode: 4429 });
    } finally {
      for (const socket of sockets) socket.close();
    }
  });
});

describe('WebSocket keep-alive and protocol errors (our adapter over graphql-ws core)', () => {
  let keep: TestGateway;
  let keepApp: TestApp;
  const logged: { level: string; msg: string; code?: string }[] = [];
  beforeAll(async () => {
    const logger = {
      info() {},
      warn: (msg: string, fields?: Record<string, unknown>) => void logged.push({ level: 'warn', msg, code: fields?.code as string }),
      error: (msg: string) => void logged.push({ level: 'error', msg }),
    };
    keep = await bootGateway({ simulator: 'frozen', logger, env: { WS_KEEPALIVE_MS: '200', WS_MAX_PAYLOAD_BYTES: '4096' } });
    keepApp = await newApp(keep.admin);
  });
  afterAll(() => keep.stop());

  it('a client that answers pings stays; one that stops answering is cut after a missed ping', async () => {
    const authorization = { authorization: `Bearer ${keepApp.testKey}` };
    const answering = await connectRaw(keep.wsUrl, authorization);
    const silent = await connectRaw(keep.wsUrl, authorization, { autoPong: false });
    const silentClosed = new Promise<number>((resolve) => silent.socket.once('close', (code) => resolve(code)));
    let answeringClosed = false;
    answering.socket.once('close', () => (answeringClosed = true));
    // Pinged every 200 ms: cut at the second ping it left unanswered (≤ 400 ms + scheduling).
    expect(await silentClosed).toBe(1006);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(answeringClosed).toBe(false);
    answering.socket.close();
  });

  it('an oversized frame is one warn line with its code, no stack trace on stderr', async () => {
    const { socket } = await connectRaw(keep.wsUrl, { authorization: `Bearer ${keepApp.testKey}` });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(`{"id":"1","type":"subscribe","payload":{"query":"${'x'.repeat(8_000)}"}}`);
    expect(await closed).toBe(1009);
    await eventually(() => logged.some((line) => line.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'), 2_000, 'the warn line');
    expect(logged.filter((line) => line.level === 'error')).toEqual([]);
  });
});
