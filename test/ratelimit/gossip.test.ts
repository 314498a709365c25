import t from 'tap';
import { createSocket } from 'node:dgram';
import { createHmac } from 'node:crypto';
import { Gossip, MAX_DATAGRAM } from '../../src/ratelimit/gossip.js';
import { gossipOptionsFor } from '../../src/ratelimit/process-limiter.js';
import { readGossipEnv } from '../../src/config/env.js';

const SECRET = 'test-secret-0123456789abcdef';

/** Retries an assertion until it holds or the deadline passes (the machine may be busy). */
async function eventually(check: () => boolean, timeoutMs = 8000, stepMs = 25): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

function udpClient() {
  const s = createSocket('udp4');
  return {
    send: (buf: Buffer, port: number) => new Promise<void>((resolve, reject) => s.send(buf, port, '127.0.0.1', (e) => (e ? reject(e) : resolve()))),
    close: () => s.close(),
  };
}

t.test('every datagram is authenticated; forged, replayed, oversized and malformed ones are dropped and counted', async (tt) => {
  const a = new Gossip({ port: 0, host: '127.0.0.1', secret: SECRET, intervalMs: 1000 });
  const { port } = await a.start();
  tt.teardown(() => a.stop());
  const messages: unknown[] = [];
  a.on('message', (_from, kind, body) => messages.push([kind, body]));
  // A peer with the right secret (its seal() builds genuine datagrams; it never binds).
  const peer = new Gossip({ port: 0, host: '127.0.0.1', secret: SECRET });
  const attacker = new Gossip({ port: 0, host: '127.0.0.1', secret: 'some-other-secret-0000' });
  const c = udpClient();
  tt.teardown(() => c.close());
  const payload = (o: object) => Buffer.from(JSON.stringify(o));

  const genuine = peer.seal(payload({ t: 'a', k: 'x', b: 1 }));
  await c.send(genuine, port);
  tt.ok(await eventually(() => messages.length === 1), 'genuine datagram delivered');
  tt.same(messages[0], ['x', 1]);

  await c.send(attacker.seal(payload({ t: 'a', k: 'x', b: 2 })), port);
  const tampered = Buffer.from(peer.seal(payload({ t: 'a', k: 'x', b: 3 })));
  tampered[tampered.length - 40] ^= 1; // flips a payload bit
  await c.send(tampered, port);
  tt.ok(await eventually(() => a.counters.dropped.forged === 2), 'wrong key and tampered payload: forged');

  await c.send(genuine, port);
  const old = peer.seal(payload({ t: 'a', k: 'x', b: 4 }), 999, Date.now() - 120_000);
  await c.send(old, port);
  tt.ok(await eventually(() => a.counters.dropped.replayed === 2), 'same datagram again, and a stale timestamp: replayed');
  // Out of order within the window is fine; far behind the window is a replay.
  await c.send(peer.seal(payload({ t: 'a', k: 'x', b: 5 }), 1000), port);
  await c.send(peer.seal(payload({ t: 'a', k: 'x', b: 6 }), 995), port);
  await c.send(peer.seal(payload({ t: 'a', k: 'x', b: 7 }), 960), port);
  tt.ok(await eventually(() => messages.length === 3 && a.counters.dropped.replayed === 3), 'window of 32 sequence numbers');

  // The 32-bit sequence wraps around.
  const wrap = new Gossip({ port: 0, host: '127.0.0.1', secret: SECRET });
  await c.send(wrap.seal(payload({ t: 'a', k: 'x', b: 'w1' }), 0xffffffff), port);
  await c.send(wrap.seal(payload({ t: 'a', k: 'x', b: 'w2' }), 0x100000000), port);
  await c.send(wrap.seal(payload({ t: 'a', k: 'x', b: 'w3' }), 0x100000000), port);
  tt.ok(await eventually(() => messages.length === 5 && a.counters.dropped.replayed === 4), 'sequence wrap accepted, its replay refused');

  await c.send(Buffer.alloc(MAX_DATAGRAM + 1, 0x5a), port);
  await c.send(peer.seal(Buffer.alloc(MAX_DATAGRAM, 0x20)), port);
  tt.ok(await eventually(() => a.counters.dropped.oversized === 2), 'oversized');

  const fresh = new Gossip({ port: 0, host: '127.0.0.1', secret: SECRET });
  await c.send(Buffer.from('hello'), port);
  const badMagic = peer.seal(payload({ t: 'a', k: 'x', b: 8 }));
  badMagic[0] = 0x41;
  await c.send(badMagic, port);
  await c.send(fresh.seal(Buffer.from('{not json')), port);
  await c.send(fresh.seal(payload({ nothing: true })), port);
  await c.send(fresh.seal(payload({ t: 'unknown-type' })), port);
  await c.send(fresh.seal(payload({ t: 'a', k: 42 })), port);
  // A well-formed MAC over garbage made with the right key still is malformed.
  const raw = Buffer.alloc(24 + 10);
  raw.write('ZG', 0);
  raw[2] = 1;
  raw.write('0123456789abcdef', 4, 'hex');
  raw.writeUInt32BE(1, 12);
  raw.writeDoubleBE(Date.now(), 16);
  const mac = createHmac('sha256', SECRET).update(raw).digest();
  await c.send(Buffer.concat([raw, mac]), port);
  tt.ok(await eventually(() => a.counters.dropped.malformed === 7), `malformed: ${a.counters.dropped.malformed}`);
  tt.equal(messages.length, 5, 'nothing dropped was delivered');
});

t.test('three members converge through seeds, detect a crash and a leave', async (tt) => {
  const fast = { host: '127.0.0.1', secret: SECRET, intervalMs: 50, suspectAfterMs: 300, deadAfterMs: 300 };
  const a = new Gossip({ ...fast, port: 0 });
  const pa = (await a.start()).port;
  const b = new Gossip({ ...fast, port: 0, seeds: [`127.0.0.1:${pa}`] });
  const pb = (await b.start()).port;
  const c = new Gossip({ ...fast, port: 0, seeds: [`127.0.0.1:${pb}`] });
  await c.start();
  const all = [a, b, c];
  tt.teardown(() => Promise.all(all.map((g) => g.stop())));
  const ids = all.map((g) => g.id).sort();
  tt.ok(await eventually(() => all.every((g) => g.owners().join() === ids.join())), 'everyone sees all three (c learned of a through b)');

  // c crashes: it falls silent without a word.
  const started = Date.now();
  c.setCut(true);
  tt.ok(await eventually(() => a.owners().length === 2 && b.owners().length === 2, 5000, 10), 'suspected: no longer an owner');
  tt.ok(await eventually(() => a.live().length === 2 && b.live().length === 2, 5000, 10), 'and removed');
  const took = Date.now() - started;
  tt.ok(took < 2500, `death detected in ${took} ms`);
  tt.equal(a.counters.died, 1);

  // It comes back (the network heals): a direct datagram revives it.
  c.setCut(false);
  tt.ok(await eventually(() => all.every((g) => g.owners().length === 3)), 'rejoins after the cut heals');

  // A graceful leave is seen at once.
  await b.stop();
  tt.ok(await eventually(() => a.live().length === 2 && c.live().length === 2, 1000, 5), 'leave seen quickly');
  tt.equal(a.counters.left, 1);
});

t.test('no secret: loopback only, and says so', async (tt) => {
  const lines: string[] = [];
  const log = { info: (_o: object, m?: string) => lines.push(`info ${m}`), warn: (_o: object, m?: string) => lines.push(`warn ${m}`) };
  const g = new Gossip({ port: 0, host: '0.0.0.0', seeds: ['10.0.0.5:7946', '127.0.0.1:7946'], log });
  const addr = await g.start();
  tt.teardown(() => g.stop());
  tt.equal(addr.address, '127.0.0.1');
  tt.notOk(g.authenticated);
  tt.ok(lines.some((l) => /^warn .*seeds off this host ignored/.test(l)));
  tt.ok(lines.some((l) => /^warn gossip: no ZTGATE_GOSSIP_SECRET: bound to loopback only/.test(l)));
});

t.test('environment', async (tt) => {
  tt.same(readGossipEnv({}), { port: 0, seeds: [], secret: null });
  const env = readGossipEnv({ ZTGATE_GOSSIP_PORT: '7946', ZTGATE_GOSSIP_PEERS: '10.0.0.2:7946, [fd00::2]:7946', ZTGATE_GOSSIP_SECRET: 'x'.repeat(32) });
  tt.same(env.seeds, ['10.0.0.2:7946', '[fd00::2]:7946']);
  tt.throws(() => readGossipEnv({ ZTGATE_GOSSIP_PORT: '99999' }));
  tt.throws(() => readGossipEnv({ ZTGATE_GOSSIP_PEERS: 'example.com:1' }));
  tt.throws(() => readGossipEnv({ ZTGATE_GOSSIP_SECRET: 'short' }));
  const o = gossipOptionsFor(env, 1, 3);
  tt.equal(o.port, 7947);
  tt.same(o.seeds, ['127.0.0.1:7946', '127.0.0.1:7948', '10.0.0.2:7946', '[fd00::2]:7946']);
});
