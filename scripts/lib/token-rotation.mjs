// Distinct tokens across many runs against one gateway. wrk and autocannon
// start a tokens file at its first line on every run, so a second run (a
// warmup then a measured run, or the next round) would replay tokens the
// gateway's verified-token cache (100 000 entries) still holds and measure
// cache hits. A rotation hands each run the file rotated to where the
// previous run of the same gateway stopped: the tokens cycle continuously,
// and each comes back only after all the others (more than the cache holds).
import fs from 'node:fs';
import path from 'node:path';

export class TokenRotation {
  /** `file`: tokens one a line (identityFixtures' tokensFile); rotated copies go to `dir`. */
  constructor(file, dir) {
    this.buf = fs.readFileSync(file);
    this.dir = dir;
    const starts = [0];
    for (let i = this.buf.indexOf(10); i !== -1 && i + 1 < this.buf.length; i = this.buf.indexOf(10, i + 1)) starts.push(i + 1);
    this.starts = starts;
    this.cursors = new Map();
    this.made = 0;
    this.lines = null;
  }

  get count() {
    return this.starts.length;
  }

  /**
   * Tokens for the next run of `owner` (one gateway and route): a file path
   * (for wrk) or, with `asArray`, an array (autocannon caches files by path).
   * `done(requests)` advances the owner's cursor and removes the file.
   */
  next(owner, { asArray = false } = {}) {
    const at = this.cursors.get(owner) ?? 0;
    let file = null;
    const done = (requests, slack = 0) => {
      this.cursors.set(owner, (at + Math.max(0, Math.round(requests)) + slack) % this.count);
      if (file) fs.rm(file, { force: true }, () => {});
    };
    if (asArray) {
      this.lines ??= this.buf.toString('utf8').split('\n').filter(Boolean);
      return { tokens: [...this.lines.slice(at), ...this.lines.slice(0, at)], done };
    }
    file = path.join(this.dir, `tokens-rot-${this.made++}.txt`);
    const cut = this.starts[at];
    const fd = fs.openSync(file, 'w');
    try {
      fs.writeSync(fd, this.buf, cut, this.buf.length - cut);
      if (this.buf[this.buf.length - 1] !== 10) fs.writeSync(fd, '\n');
      fs.writeSync(fd, this.buf, 0, cut);
    } finally {
      fs.closeSync(fd);
    }
    return { tokens: file, done };
  }
}

/**
 * One load run of `request` on `load` (a loadgen runner); with a rotation, the run
 * gets the tokens `owner` has not sent yet. Requests in flight when a run ends took
 * a token too: `connections` of slack.
 */
export async function runRotated(load, base, request, opts, rotation, owner) {
  if (!rotation) return load.run(base, request, opts);
  const r = rotation.next(owner, { asArray: load.name !== 'wrk' });
  let s = null;
  try {
    s = await load.run(base, { ...request, tokens: r.tokens }, opts);
    return s;
  } finally {
    r.done(s?.requests ?? 0, opts.connections);
  }
}
