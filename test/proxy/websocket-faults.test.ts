/**
 * WebSocket faults through a real gateway process: an upstream vanishing
 * mid-stream, a client vanishing, a slow reader on either side (the gateway's
 * buffering stays bounded: asserted on how much the sender still holds, not on
 * time), idle sessions and a gateway shutdown.
 */
import t from 'tap';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startGateway } from '../helpers/gateway.js';
import { closedWith, nextMessage, openWs, startWsUpstream } from './websocket-upstream.js';
import { kernelQueued } from '../helpers/kernel-queues.js';

const MiB = 1024 * 1024;

t.test('WebSocket faults', async (t) => {
  const upstream = await startWsUpstream();
  const port = await freePort();
  const gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      { name: 'ws', match: { path: '/ws/*' }, upstream: 'app', public: true, websocket: { enabled: true, maxMessageBytes: 256 * 1024, maxBufferedBytes: MiB } },
      { name: 'idle', match: { path: '/idle/*' }, upstream: 'app', public: true, websocket: { enabled: true, idleTimeoutS: 1 } },
    ],
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const base = `ws://127.0.0.1:${port}`;
  const echoWorks = async () => {
    const opened = await openWs(`${base}/ws/echo`);
    if (!opened.ok) return false;
    const reply = nextMessage(opened.ws);
    opened.ws.send('ping?');
    const ok = (await reply).data.toString() === 'ping?';
    opened.ws.close();
    return ok;
  };

  await t.test('an upstream vanishing mid-stream closes the client with 1011; the gateway keeps serving', async (t) => {
    const session = upstream.nextSession('/ws/vanish');
    const opened = await openWs(`${base}/ws/vanish`);
    if (!opened.ok) return t.fail('refused');
    const s = await session;
    const got = nextMessage(opened.ws);
    s.socket.send('first');
    t.equal((await got).data.toString(), 'first', 'the session was live');
    const closed = closedWith(opened.ws);
    // No close frame: the TCP connection just goes.
    (s.socket as unknown as { _socket: { destroy(): void } })._socket.destroy();
    const { code } = await closed;
    t.equal(code, 1011, 'client closed with 1011');
    const line = await gw.waitForLog((l) => l.msg === 'websocket closed' && l.code === 1011);
    t.match(line, { closedBy: 'upstream', reason: 'upstream went away mid-stream', level: 40 }, 'logged as a warning with the cause');
    t.ok(await echoWorks(), 'a new session works');
    t.equal((await fetch(`http://127.0.0.1:${port}/ws/x`)).status, 200, 'plain HTTP too');
  });

  await t.test('a client vanishing closes the upstream side', async (t) => {
    const session = upstream.nextSession('/ws/client-gone');
    const opened = await openWs(`${base}/ws/client-gone`);
    if (!opened.ok) return t.fail('refused');
    const s = await session;
    opened.ws.terminate(); // TCP gone, no close frame
    const { code } = await s.closed;
    t.equal(code, 1001, 'the upstream is told the client went away (1001)');
    await gw.waitForLog((l) => l.msg === 'websocket closed' && l.closedBy === 'client' && l.reason === 'client went away');
  });

  await t.test('a slow client: the gateway stops reading the upstream; what it holds stays bounded; nothing is lost', async (t) => {
    const session = upstream.nextSession('/ws/flood');
    const opened = await openWs(`${base}/ws/flood`);
    if (!opened.ok) return t.fail('refused');
    const c = opened.ws;
    const s = await session;
    c.pause(); // the client reads nothing for now
    const total = 64 * MiB;
    const size = 64 * 1024;
    const count = total / size;
    // The upstream sends like a well-behaved server: one message at a time, waiting while its
    // socket holds more than 256 KiB. So what it has handed its kernel is known exactly.
    const raw = (s.socket as unknown as { _socket: Socket })._socket;
    let sent = 0;
    const pumping = (async () => {
      while (sent < count && !raw.destroyed) {
        if (raw.writableLength > 256 * 1024) {
          await once(raw, 'drain');
          continue;
        }
        const m = Buffer.alloc(size, sent & 0xff);
        m.writeUInt32BE(sent, 0);
        s.socket.send(m);
        sent++;
      }
    })();
    // Wait until the upstream makes no progress for 2 s: the path is full (or everything was sent).
    let last = -1;
    let still = 0;
    while (still < 20 && sent < count) {
      await sleep(100);
      const now = sent * (size + 10) - raw.writableLength;
      still = now === last ? still + 1 : 0;
      last = now;
    }
    // Held in the gateway = what the upstream handed its kernel - what sits in kernel queues
    // (client <-> gateway and gateway <-> upstream, both ends) - what the client read (nothing).
    // Without backpressure the gateway reads all 64 MiB into uWS; with it, it holds about
    // maxBufferedBytes (1 MiB) plus what was in flight when the upstream was paused.
    const frame = size + 10; // 64 KiB payload: 2-byte header + 8-byte length, unmasked
    const handedToKernel = sent * frame - raw.writableLength;
    const ports = [(c as unknown as { _socket: Socket })._socket.localPort!, raw.remotePort!];
    const held = handedToKernel - kernelQueued(ports);
    t.ok(sent < count, `the upstream could send only ${sent} of ${count} messages while the client read nothing`);
    t.ok(held <= 3 * MiB, `the gateway holds ${(held / MiB).toFixed(2)} MiB`);
    // Now read: every message arrives, in order.
    let expected = 0;
    let intact = true;
    const done = new Promise<void>((resolve) => {
      c.on('message', (data: Buffer) => {
        if (data.length !== size || data.readUInt32BE(0) !== expected || data[size - 1] !== (expected & 0xff)) intact = false;
        expected++;
        if (expected === total / size) resolve();
      });
    });
    c.resume();
    await pumping;
    await done;
    t.ok(intact, 'all 1024 messages arrived intact and in order');
    const line = (await (async () => {
      c.close();
      return gw.waitForLog((l) => l.msg === 'websocket closed' && l.route === 'ws' && (l.bytesOut as number) >= total);
    })()) as { upstreamPauses: number };
    t.ok(line.upstreamPauses > 0, `the upstream was paused ${line.upstreamPauses} times`);
  });

  await t.test('a client outrunning a stalled upstream is closed with 1013 at the bound', async (t) => {
    const session = upstream.nextSession('/ws/stalled');
    const opened = await openWs(`${base}/ws/stalled`);
    if (!opened.ok) return t.fail('refused');
    const s = await session;
    s.socket.pause(); // the upstream reads nothing
    const c = opened.ws;
    const closed = closedWith(c);
    let sent = 0;
    // Send until the gateway gives up (bounded: 128 MiB would be far past any sane buffer).
    while (c.readyState === c.OPEN && sent < 128 * MiB) {
      c.send(Buffer.alloc(128 * 1024));
      sent += 128 * 1024;
      if (c.bufferedAmount > 4 * MiB) await sleep(10);
    }
    // The gateway closes with 1013; a client still writing as fast as it can may see the TCP
    // close before it reads that frame (1006). The gateway's own line says what it decided.
    const code = (await closed).code;
    t.ok(code === 1013 || code === 1006, `client closed (${code}: 1013 try again later, or 1006 when the frame was not read)`);
    const line = await gw.waitForLog((l) => l.msg === 'websocket closed' && l.code === 1013);
    t.ok((line.bytesIn as number) < 64 * MiB, `the gateway took ${((line.bytesIn as number) / MiB).toFixed(1)} MiB before refusing more`);
    s.socket.resume();
    t.ok(await echoWorks(), 'the gateway keeps serving');
  });

  await t.test('an idle session is closed with 1001', async (t) => {
    const session = upstream.nextSession('/idle/');
    const opened = await openWs(`${base}/idle/x`);
    if (!opened.ok) return t.fail('refused');
    const s = await session;
    const { code } = await closedWith(opened.ws);
    t.equal(code, 1001, 'client told: going away');
    t.equal((await s.closed).code, 1001, 'upstream told too');
    await gw.waitForLog((l) => l.msg === 'websocket closed' && String(l.reason).startsWith('idle for'));
  });

  await t.test('shutdown closes open sessions with 1001', async (t) => {
    const session = upstream.nextSession('/ws/held');
    const opened = await openWs(`${base}/ws/held`);
    if (!opened.ok) return t.fail('refused');
    const s = await session;
    const closed = closedWith(opened.ws);
    const exit = gw.stop();
    t.equal((await closed).code, 1001, 'client: going away');
    t.equal((await s.closed).code, 1001, 'upstream: going away');
    t.equal(await exit, 0, 'the gateway exits cleanly');
  });
});
