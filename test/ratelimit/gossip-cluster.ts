import { Gossip } from '../../src/ratelimit/gossip.js';
import { DistributedLimiter } from '../../src/ratelimit/limiter.js';

/** Checks `check` every `stepMs` until it holds or `timeoutMs` passed; the last answer. */
export async function eventually(check: () => boolean, timeoutMs = 8000, stepMs = 25): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

/** `n` limiters sharing their buckets over real UDP gossip on loopback; `ok` once every member sees the others. */
export async function gossipCluster(n: number, secret: string) {
  const opts = { host: '127.0.0.1', secret, intervalMs: 50, suspectAfterMs: 400, deadAfterMs: 400 };
  const gossips: Gossip[] = [];
  for (let i = 0; i < n; i++) {
    const g = new Gossip({ ...opts, port: 0, seeds: gossips.length ? [`127.0.0.1:${gossips[0]!.address()!.port}`] : [] });
    await g.start();
    gossips.push(g);
  }
  const limiters = gossips.map((gossip) => new DistributedLimiter({ gossip, shards: 8 }));
  for (const l of limiters) l.start();
  const ok = await eventually(() => gossips.every((g) => g.owners().length === n));
  return {
    gossips,
    limiters,
    ok,
    async close() {
      for (const l of limiters) l.stop();
      await Promise.all(gossips.map((g) => g.stop()));
    },
  };
}
