import t from 'tap';
import {
  ParseError,
  ResponseParser,
  type ResponseHead,
  type ResponseParserHandlers,
  type ResponseParserLimits,
} from '../../src/upstream/response-parser.js';

// ---------------------------------------------------------------------------------------------
// helpers

class Recorder implements ResponseParserHandlers {
  infos: ResponseHead[] = [];
  head: ResponseHead | null = null;
  hasBody: boolean | null = null;
  bodyParts: Buffer[] = [];
  bodyBytes = 0;
  completed = false;
  trailers: string[] | null = null;
  keepAlive: boolean | null = null;
  events: string[] = [];

  reset(): void {
    this.infos = [];
    this.head = null;
    this.hasBody = null;
    this.bodyParts = [];
    this.bodyBytes = 0;
    this.completed = false;
    this.trailers = null;
    this.keepAlive = null;
    this.events = [];
  }

  onInformational(head: ResponseHead): void {
    this.events.push('info');
    this.infos.push(head);
  }
  onHead(head: ResponseHead, hasBody: boolean): void {
    this.events.push('head');
    this.head = head;
    this.hasBody = hasBody;
  }
  onBody(chunk: Buffer): void {
    if (this.events[this.events.length - 1] !== 'body') this.events.push('body');
    if (chunk.length === 0) throw new Error('empty onBody chunk');
    // the chunk is only valid during the call: copy it
    this.bodyParts.push(Buffer.from(chunk));
    this.bodyBytes += chunk.length;
  }
  onComplete(trailers: string[] | null, keepAlive: boolean): void {
    this.events.push('complete');
    this.completed = true;
    this.trailers = trailers;
    this.keepAlive = keepAlive;
  }
  get body(): Buffer {
    return Buffer.concat(this.bodyParts);
  }
}

type Mode = 'whole' | 'bytes' | 'random';

interface Outcome {
  rec: Recorder;
  parser: ResponseParser;
  consumed: number;
  finished: boolean | null; // return value of finish(), null if not called
  error: unknown;
}

/** Tiny seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Feed `input` to a fresh parser in pieces; stop when the parser stops consuming or the message
 * completes; call finish() at the end of input if the parser is still busy (like a socket close).
 */
function run(
  input: Buffer | string,
  opts: { head?: boolean; mode?: Mode; rnd?: () => number; limits?: Partial<ResponseParserLimits>; finish?: boolean } = {},
): Outcome {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const rec = new Recorder();
  const parser = new ResponseParser(rec, opts.limits);
  parser.expect(opts.head ?? false);
  const mode = opts.mode ?? 'whole';
  const rnd = opts.rnd;
  let consumed = 0;
  let finished: boolean | null = null;
  let error: unknown = null;
  try {
    let off = 0;
    while (off < buf.length) {
      let n: number;
      if (mode === 'whole') n = buf.length - off;
      else if (mode === 'bytes') n = 1;
      else {
        const r = (rnd as () => number)();
        // mostly small pieces, sometimes big ones
        n = 1 + Math.floor(r < 0.8 ? r * 16 : r * 300);
        if (n > buf.length - off) n = buf.length - off;
      }
      const c = parser.execute(buf.subarray(off, off + n));
      if (!Number.isInteger(c) || c < 0 || c > n) throw new Error(`execute returned ${c} for ${n} bytes`);
      consumed += c;
      off += c;
      if (c < n || !parser.busy) break;
    }
    if ((opts.finish ?? true) && parser.busy && off === buf.length) finished = parser.finish();
  } catch (err) {
    error = err;
  }
  return { rec, parser, consumed, finished, error };
}

function codeOf(err: unknown): string {
  if (err instanceof ParseError) return err.code;
  if (err === null) return 'no error';
  return 'non-ParseError: ' + String(err);
}

/** Assert that input fails with `code`, fed whole, byte-by-byte and in random splits. */
function rejects(
  t: { equal(found: unknown, wanted: unknown, message: string): boolean },
  input: string | Buffer,
  code: string,
  opts: { head?: boolean; limits?: Partial<ResponseParserLimits> } = {},
): void {
  const label = JSON.stringify(typeof input === 'string' ? input : input.toString('latin1')).slice(0, 120);
  for (const mode of ['whole', 'bytes', 'random'] as const) {
    const o = run(input, { ...opts, mode, rnd: prng(7) });
    t.equal(codeOf(o.error), code, `${label} (${mode})`);
  }
}


// ---------------------------------------------------------------------------------------------
// behaviour

t.test('simple Content-Length response', async (t) => {
  const input =
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Dup: a\r\nContent-Length: 5\r\nX-DUP:  \t b c \t\r\nEmpty:\r\n\r\nhello';
  for (const mode of ['whole', 'bytes', 'random'] as const) {
    const o = run(input, { mode, rnd: prng(1) });
    t.equal(o.error, null);
    t.equal(o.consumed, Buffer.byteLength(input));
    t.same(o.rec.head, {
      statusCode: 200,
      statusMessage: 'OK',
      headers: ['content-type', 'text/plain', 'x-dup', 'a', 'content-length', '5', 'x-dup', 'b c', 'empty', ''],
      contentLength: 5,
      chunked: false,
      keepAlive: true,
    });
    t.equal(o.rec.hasBody, true);
    t.equal(o.rec.body.toString(), 'hello');
    t.same(o.rec.events, ['head', 'body', 'complete']);
    t.equal(o.rec.trailers, null);
    t.equal(o.rec.keepAlive, true);
    t.equal(o.parser.busy, false);
    t.equal(o.finished, null);
  }
});

t.test('status line variants', async (t) => {
  let o = run('HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n');
  t.equal(o.error, null);
  t.equal(o.rec.head?.statusCode, 404);
  t.equal(o.rec.head?.statusMessage, '');
  t.equal(o.rec.hasBody, false, 'Content-Length: 0 has no body');
  t.equal(o.rec.completed, true);

  o = run('HTTP/1.0 599 \r\nContent-Length: 0\r\n\r\n');
  t.equal(o.error, null);
  t.equal(o.rec.head?.statusCode, 599);
  t.equal(o.rec.head?.statusMessage, '');
  t.equal(o.rec.keepAlive, false, 'HTTP/1.0 without keep-alive');

  o = run(Buffer.from('HTTP/1.1 200 Ok\tf\xe9ine \x80\r\nContent-Length: 0\r\n\r\n', 'latin1'));
  t.equal(o.error, null);
  t.equal(o.rec.head?.statusMessage, 'Ok\tf\xe9ine \x80', 'HTAB and obs-text allowed in reason');
});

t.test('keepAlive rules', async (t) => {
  const cases: [string, boolean][] = [
    ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nConnection: foo, CLOSE\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nConnection: foo\r\nConnection: ,Close ,\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', true],
  ];
  for (const [input, ka] of cases) {
    const o = run(input);
    t.equal(o.error, null);
    t.equal(o.rec.head?.keepAlive, ka, JSON.stringify(input));
    t.equal(o.rec.keepAlive, ka);
  }
});

t.test('keep-alive pipelining: two responses in one buffer', async (t) => {
  const first = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';
  const second = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n';
  const buf = Buffer.from(first + second);
  const rec = new Recorder();
  const p = new ResponseParser(rec);
  t.equal(p.busy, false);
  p.expect(false);
  t.equal(p.busy, true);
  const n1 = p.execute(buf);
  t.equal(n1, first.length, 'stops right after the first response');
  t.equal(rec.body.toString(), 'abc');
  t.equal(rec.completed, true);
  t.equal(p.busy, false);

  // more bytes while not busy are unexpected
  const rec0 = new Recorder();
  const p0 = new ResponseParser(rec0);
  p0.expect(false);
  t.equal(p0.execute(buf), n1);
  t.throws(() => p0.execute(buf.subarray(n1)), { code: 'ZTG_UPSTREAM_UNEXPECTED_DATA' });
  t.equal(p0.busy, false);

  // the same parser is reused for the next response on the connection
  rec.reset();
  p.expect(false);
  const n2 = p.execute(buf.subarray(n1));
  t.equal(n2, second.length);
  t.equal(rec.head?.statusCode, 201);
  t.equal(rec.head?.chunked, true);
  t.equal(rec.body.toString(), 'xy');
  t.equal(rec.completed, true);
  t.equal(p.busy, false);
  t.equal(p.finish(), false, 'idle close after completion');
});

t.test('data before expect() is unexpected; parser dead until expect()', async (t) => {
  const rec = new Recorder();
  const p = new ResponseParser(rec);
  t.equal(p.execute(Buffer.alloc(0)), 0, 'empty chunk is fine');
  t.throws(() => p.execute(Buffer.from('HTTP/1.1 200 OK\r\n')), { code: 'ZTG_UPSTREAM_UNEXPECTED_DATA' });
  t.throws(() => p.execute(Buffer.from('x')), ParseError, 'still dead');
  t.equal(p.finish(), false);
  p.expect(false);
  t.equal(p.execute(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')), 27);
  t.equal(rec.completed, true);

  // an error leaves the parser dead until expect()
  p.expect(false);
  t.throws(() => p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n')), {
    code: 'ZTG_UPSTREAM_BAD_LENGTH',
  });
  t.equal(p.busy, false);
  t.throws(() => p.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), { code: 'ZTG_UPSTREAM_BAD_LENGTH' });
  p.expect(false);
  t.equal(p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')), 38);
});

t.test('chunked with extensions and trailers', async (t) => {
  const input =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n' +
    '5;name=value;quoted="a \\" b"\r\nhello\r\n' +
    'A\r\n0123456789\r\n' +
    '1;x\r\n!\r\n' +
    '00000000000000f\r\nfifteen bytes!!\r\n' +
    '0;last\r\nX-Checksum: abc\r\nServer-Timing:  db;dur=53 \r\nX-Checksum: def\r\n\r\n';
  for (const mode of ['whole', 'bytes', 'random'] as const) {
    const o = run(input, { mode, rnd: prng(2) });
    t.equal(o.error, null, mode);
    t.equal(o.consumed, input.length);
    t.equal(o.rec.head?.chunked, true);
    t.equal(o.rec.head?.contentLength, -1);
    t.equal(o.rec.hasBody, true);
    t.equal(o.rec.body.toString(), 'hello0123456789!fifteen bytes!!');
    t.same(o.rec.trailers, ['x-checksum', 'abc', 'server-timing', 'db;dur=53', 'x-checksum', 'def']);
    t.equal(o.rec.keepAlive, true);
  }
  const o = run('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  t.equal(o.rec.trailers, null, 'no trailers -> null');
  t.equal(o.rec.hasBody, true);
  t.equal(o.rec.bodyBytes, 0);
  t.equal(o.rec.completed, true);

  // several TE header fields / list forms that still mean just "chunked"
  for (const te of ['chunked', 'CHUNKED', ' chunked ', ', chunked,']) {
    const o2 = run(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n1\r\na\r\n0\r\n\r\n`);
    t.equal(o2.error, null, te);
    t.equal(o2.rec.body.toString(), 'a');
  }
});

t.test('responses without body: HEAD, 204, 304', async (t) => {
  let o = run('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n', { head: true });
  t.equal(o.error, null);
  t.equal(o.rec.hasBody, false);
  t.equal(o.rec.head?.contentLength, 1234, 'CL reported for HEAD');
  t.equal(o.rec.completed, true);
  t.equal(o.rec.keepAlive, true);

  o = run('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { head: true });
  t.equal(o.error, null, 'TE ignored for HEAD');
  t.equal(o.rec.head?.chunked, false);
  t.equal(o.rec.completed, true);

  // the next bytes are not part of the HEAD response
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n';
  o = run(head + 'hello', { head: true });
  t.equal(o.consumed, head.length);
  t.equal(o.rec.bodyBytes, 0);

  for (const status of ['204 No Content', '304 Not Modified']) {
    const h = `HTTP/1.1 ${status}\r\nContent-Length: 42\r\nETag: "x"\r\n\r\n`;
    o = run(h + 'HTTP/1.1 200 OK\r\n');
    t.equal(o.error, null);
    t.equal(o.consumed, h.length, status);
    t.equal(o.rec.hasBody, false);
    t.equal(o.rec.head?.contentLength, 42);
    t.equal(o.rec.bodyBytes, 0);
    t.equal(o.rec.completed, true);
  }
  // TE with CL on a 304 is ignored (no body), but CL syntax is still validated
  o = run('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n');
  t.equal(o.error, null);
  rejects(t, 'HTTP/1.1 304 Not Modified\r\nContent-Length: 3x\r\n\r\n', 'ZTG_UPSTREAM_BAD_LENGTH');
  rejects(t, 'HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n', 'ZTG_UPSTREAM_BAD_LENGTH', { head: true });
});

t.test('100-continue then 200', async (t) => {
  const input =
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
  for (const mode of ['whole', 'bytes', 'random'] as const) {
    const o = run(input, { mode, rnd: prng(3) });
    t.equal(o.error, null);
    t.same(o.rec.events, ['info', 'head', 'body', 'complete']);
    t.equal(o.rec.infos[0]?.statusCode, 100);
    t.equal(o.rec.infos[0]?.statusMessage, 'Continue');
    t.equal(o.rec.head?.statusCode, 200);
    t.equal(o.rec.body.toString(), 'hi');
    t.equal(o.consumed, input.length);
  }
  // upstream closes after 100: truncated, not an idle close
  const o = run('HTTP/1.1 100 Continue\r\n\r\n');
  t.equal(codeOf(o.error), 'ZTG_UPSTREAM_TRUNCATED');
});

t.test('103 early hints (and 102) before the final response', async (t) => {
  const input =
    'HTTP/1.1 102 Processing\r\n\r\n' +
    'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\n\r\n' +
    'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
  const o = run(input);
  t.equal(o.error, null);
  t.same(o.rec.events, ['info', 'info', 'head', 'complete']);
  t.equal(o.rec.infos[1]?.statusCode, 103);
  t.same(o.rec.infos[1]?.headers, ['link', '</a.css>; rel=preload', 'link', '</b.js>; rel=preload']);
  t.same(o.rec.head?.headers, ['content-length', '0']);
  // each head has its own limit: two heads of 60 bytes with a 64 byte limit
  const h = 'HTTP/1.1 103 Early Hints\r\nLink: </aaaaaaaaaaaaaaaaaaa>\r\n\r\n';
  const o2 = run(h + h + 'HTTP/1.1 204 No Content\r\n\r\n', { limits: { maxHeaderBytes: h.length } });
  t.equal(o2.error, null);
  t.equal(o2.rec.infos.length, 2);
});

t.test('101 Switching Protocols hands the socket over', async (t) => {
  const head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 10\r\n\r\n';
  const input = Buffer.concat([Buffer.from(head), Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f])]);
  for (const mode of ['whole', 'bytes', 'random'] as const) {
    const o = run(input, { mode, rnd: prng(4) });
    t.equal(o.error, null);
    t.equal(o.consumed, head.length);
    t.equal(o.rec.hasBody, false);
    t.equal(o.rec.head?.statusCode, 101);
    t.equal(o.rec.head?.keepAlive, false);
    t.same(o.rec.events, ['head', 'complete']);
    t.equal(o.rec.keepAlive, false);
    t.equal(o.rec.trailers, null);
    t.equal(o.parser.busy, false);
  }
});

t.test('close-delimited body ended by finish()', async (t) => {
  const rec = new Recorder();
  const p = new ResponseParser(rec);
  p.expect(false);
  const first = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nabc';
  t.equal(p.execute(Buffer.from(first)), first.length);
  t.equal(rec.head?.keepAlive, false);
  t.equal(rec.hasBody, true);
  t.equal(p.execute(Buffer.from('def')), 3);
  t.equal(rec.completed, false);
  t.equal(p.busy, true);
  t.equal(p.finish(), true);
  t.equal(rec.completed, true);
  t.equal(rec.keepAlive, false);
  t.equal(rec.body.toString(), 'abcdef');
  t.equal(p.busy, false);

  // empty close-delimited body
  const o = run('HTTP/1.0 200 OK\r\n\r\n');
  t.equal(o.error, null);
  t.equal(o.finished, true);
  t.equal(o.rec.completed, true);
  t.equal(o.rec.bodyBytes, 0);
});

t.test('idle close and truncation at finish()', async (t) => {
  const rec = new Recorder();
  const p = new ResponseParser(rec);
  t.equal(p.finish(), false, 'not busy');
  p.expect(false);
  t.equal(p.finish(), false, 'no byte received: idle close');
  t.equal(p.busy, false);

  const truncated = [
    'HTTP/1.1 200 OK',
    'HTTP/1.1 200 OK\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r',
    'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n',
  ];
  for (const input of truncated) rejects(t, input, 'ZTG_UPSTREAM_TRUNCATED');

  const p2 = new ResponseParser(new Recorder());
  p2.expect(false);
  p2.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  t.throws(() => p2.finish(), { code: 'ZTG_UPSTREAM_TRUNCATED', name: 'ParseError' });
  t.equal(p2.busy, false);
});

t.test('limits', async (t) => {
  const head = 'HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n';
  let o = run(head, { limits: { maxHeaderBytes: head.length, maxHeaders: 3 } });
  t.equal(o.error, null, 'head exactly at the limits');
  t.equal(o.finished, true);
  rejects(t, head, 'ZTG_UPSTREAM_HEADER_TOO_LARGE', { limits: { maxHeaderBytes: head.length - 1 } });
  rejects(t, head, 'ZTG_UPSTREAM_HEADER_TOO_LARGE', { limits: { maxHeaders: 2 } });
  // default limits: 64 KiB head, 100 headers
  rejects(t, 'HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(65536) + '\r\n\r\n', 'ZTG_UPSTREAM_HEADER_TOO_LARGE');
  rejects(t, 'HTTP/1.1 200 OK\r\n' + 'X: y\r\n'.repeat(101) + '\r\n', 'ZTG_UPSTREAM_HEADER_TOO_LARGE');
  o = run('HTTP/1.1 200 OK\r\n' + 'X: y\r\n'.repeat(100) + 'Content-Length: 0\r\n\r\n');
  t.equal(codeOf(o.error), 'ZTG_UPSTREAM_HEADER_TOO_LARGE', '101st field is Content-Length');
  o = run('HTTP/1.1 200 OK\r\n' + 'X: y\r\n'.repeat(99) + 'Content-Length: 0\r\n\r\n');
  t.equal(o.error, null, '100 fields');
  // a head that never ends is rejected as soon as it exceeds the limit, not at close
  const p = new ResponseParser(new Recorder(), { maxHeaderBytes: 1000 });
  p.expect(false);
  p.execute(Buffer.from('HTTP/1.1 200 OK\r\nX: '));
  t.throws(() => {
    for (let i = 0; i < 2000; i++) p.execute(Buffer.from('a'));
  }, { code: 'ZTG_UPSTREAM_HEADER_TOO_LARGE' });

  // trailers share the limits
  const trailerBody = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n';
  rejects(t, trailerBody + 'T: ' + 'x'.repeat(100) + '\r\n\r\n', 'ZTG_UPSTREAM_HEADER_TOO_LARGE', {
    limits: { maxHeaderBytes: 100 },
  });
  rejects(t, trailerBody + 'T: 1\r\nU: 2\r\n\r\n', 'ZTG_UPSTREAM_HEADER_TOO_LARGE', { limits: { maxHeaders: 1 } });
  o = run(trailerBody + 'T: 1\r\n\r\n', { limits: { maxHeaders: 1 } });
  t.same(o.rec.trailers, ['t', '1']);

  // chunk extensions bounded
  const ext = (n: number): string =>
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;' + 'e'.repeat(n - 1) + '\r\nx\r\n0\r\n\r\n';
  o = run(ext(16), { limits: { maxChunkExtBytes: 16 } });
  t.equal(o.error, null, 'extension at the limit');
  rejects(t, ext(17), 'ZTG_UPSTREAM_BAD_CHUNK', { limits: { maxChunkExtBytes: 16 } });
  rejects(t, ext(4097), 'ZTG_UPSTREAM_BAD_CHUNK');

  t.throws(() => new ResponseParser(new Recorder(), { maxHeaders: 0 }), RangeError);
  t.throws(() => new ResponseParser(new Recorder(), { maxHeaderBytes: 1.5 }), RangeError);
});

t.test('Content-Length lists', async (t) => {
  for (const cl of ['Content-Length: 3, 3', 'Content-Length: 3,3\r\nContent-Length: 003', 'Content-Length: 3\r\nContent-Length: 3']) {
    const o = run(`HTTP/1.1 200 OK\r\n${cl}\r\n\r\nabc`);
    t.equal(o.error, null, cl);
    t.equal(o.rec.head?.contentLength, 3);
    t.equal(o.rec.body.toString(), 'abc');
  }
  const o = run('HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\nabc');
  t.equal(o.rec.head?.contentLength, 999999999999999, '15 digits');
  t.equal(codeOf(o.error), 'ZTG_UPSTREAM_TRUNCATED');
});

// ---------------------------------------------------------------------------------------------
// malformed corpus

t.test('malformed responses', async (t) => {
  const ok = 'HTTP/1.1 200 OK\r\n';
  const te = ok + 'Transfer-Encoding: chunked\r\n\r\n';
  const corpus: [string, string][] = [
    // status line
    ['HTTP/1.1 99 x\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/2 200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 2000 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['ICY 200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 200 OK\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'], // status line without CR
    ['HTTP/1.1 200 OK\nContent-Length: 0\n\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 200 OKContent-Length: 0\r\n', 'ZTG_UPSTREAM_TRUNCATED'], // head never terminated
    ['HTTP/1.1 099 x\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 600 x\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 20a OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 200OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1  200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1\t200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.2 200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.10 200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['http/1.1 200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    [' HTTP/1.1 200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['\r\nHTTP/1.1 200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 20\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 \r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 200 O\x00K\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 200 O\x7fK\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'],
    ['HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_STATUS'], // bare CR
    // line endings
    [ok + 'A: b\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'], // bare LF
    [ok + 'Content-Length: 0\r\n\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + 'Content-Length: 0\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + 'A: b\rc\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'], // bare CR
    [ok + 'A: b\r\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + 'Content-Length: 0\r\n\r\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + '\rA: b\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    // field syntax
    [ok + 'A: b\r\n c\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'], // obs-fold
    [ok + 'A: b\r\n\tc\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + ' A: b\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + 'A : b\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'], // space before colon
    [ok + 'Content-Length\t: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + 'A: b\x00c\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'], // NUL in value
    [ok + 'A: b\x7f\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + 'A: \x1b[31m\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + ': b\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'], // empty name
    [ok + 'Ab\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'], // no colon
    [ok + 'A(b): c\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + 'A\x00: c\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [ok + '\xe9: c\r\nContent-Length: 0\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    // transfer-encoding
    [ok + 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    [ok + 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    [ok + 'Transfer-Encoding: gzip\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    [ok + 'Transfer-Encoding: chunked, gzip\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    [ok + 'Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    [ok + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    [ok + 'Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    [ok + 'Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    [ok + 'Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    [ok + 'Transfer-Encoding:\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    ['HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING'],
    // content-length
    [ok + 'Content-Length: +5\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: -1\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: 5 5\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: 0x10\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: 5, 6\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: 5,\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: ,5\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length:\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: 1234567890123456\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: 5.0\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    [ok + 'Content-Length: \xb5\r\n\r\nhello', 'ZTG_UPSTREAM_BAD_LENGTH'],
    // chunked framing
    [te + 'fffffffffffffffff\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '0000000000000001\r\nx\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'], // 16 digits
    [te + 'fffffffffffffff\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'], // > 2^53-1
    [te + '0x5\r\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + ' 5\r\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '5 \r\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '5 ;a\r\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '\r\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + ';a\r\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '-5\r\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '5\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '5\rhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '5;a\x00\r\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '5;a\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '5\r\nhelloX\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'], // missing CRLF after data
    [te + '5\r\nhello\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '5\r\nhello\r0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '5\r\nhello0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    [te + '3\r\nhello\r\n0\r\n\r\n', 'ZTG_UPSTREAM_BAD_CHUNK'],
    // trailers
    [te + '0\r\nX: y\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [te + '0\r\n\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [te + '0\r\nX: y\r\n z\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [te + '0\r\nX : y\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [te + '0\r\nX: \x00\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
    [te + '0\r\nHTTP/1.1 200 OK\r\n\r\n', 'ZTG_UPSTREAM_BAD_HEADER'],
  ];
  for (const [input, code] of corpus) rejects(t, input, code);
  // garbage instead of a status line is rejected before a line end is seen
  const p = new ResponseParser(new Recorder());
  p.expect(false);
  t.throws(() => p.execute(Buffer.from('SSH-2.0-OpenSSH')), { code: 'ZTG_UPSTREAM_BAD_STATUS' });
});

// ---------------------------------------------------------------------------------------------
// fuzz: valid responses in random splits and byte by byte

interface Generated {
  raw: Buffer;
  /** length of the response itself (raw may carry trailing bytes of a next response) */
  length: number;
  head: boolean;
  expected: string; // JSON summary
  body: Buffer;
  closeDelimited: boolean;
}

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

function generate(rnd: () => number): Generated {
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)] as T;
  const token = (min: number, max: number): string => {
    let s = '';
    const n = min + int(max - min + 1);
    for (let i = 0; i < n; i++) s += TCHARS[int(TCHARS.length)];
    return s;
  };
  const fieldText = (max: number): string => {
    // VCHAR, obs-text, inner SP/HTAB
    let s = '';
    const n = int(max + 1);
    for (let i = 0; i < n; i++) {
      const r2 = rnd();
      if (r2 < 0.1) s += ' ';
      else if (r2 < 0.13) s += '\t';
      else if (r2 < 0.18) s += String.fromCharCode(0x80 + int(128));
      else s += String.fromCharCode(0x21 + int(94));
    }
    return s;
  };
  const ows = (): string => pick(['', '', '', ' ', '\t', '  ', ' \t ']);
  const randomFields = (count: number, out: string[], wire: string[]): void => {
    for (let i = 0; i < count; i++) {
      const name = 'x-' + token(1, 12);
      const value = fieldText(30).replace(/^[ \t]+|[ \t]+$/g, '');
      out.push(name.toLowerCase(), value);
      const wireName = name
        .split('')
        .map((c) => (rnd() < 0.5 ? c.toUpperCase() : c))
        .join('');
      wire.push(`${wireName}:${ows()}${value}${ows()}\r\n`);
    }
  };
  const randomBody = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };

  const parts: Buffer[] = [];
  const isHead = rnd() < 0.08;
  const summary: Record<string, unknown> = {};
  const infos: unknown[] = [];
  const nInfo = rnd() < 0.15 ? 1 + int(2) : 0;
  for (let i = 0; i < nInfo; i++) {
    const code = pick([100, 102, 103]);
    const hs: string[] = [];
    const wire: string[] = [];
    randomFields(int(3), hs, wire);
    parts.push(Buffer.from(`HTTP/1.1 ${code} Info\r\n${wire.join('')}\r\n`, 'latin1'));
    infos.push({ code, headers: hs });
  }
  summary['infos'] = infos;

  const minor = rnd() < 0.15 ? 0 : 1;
  let status = 200 + int(400);
  if (rnd() < 0.1) status = pick([204, 304]);
  const reason = rnd() < 0.1 ? '' : fieldText(20).replace(/^[ \t]+/, '');
  const statusLine = reason === '' && rnd() < 0.5 ? `HTTP/1.${minor} ${status}\r\n` : `HTTP/1.${minor} ${status} ${reason}\r\n`;

  const headers: string[] = [];
  const wire: string[] = [];
  randomFields(int(10), headers, wire);
  let connClose = false;
  let connKeepAlive = false;
  if (rnd() < 0.3) {
    const conn = pick(['close', 'keep-alive', 'Keep-Alive', 'CLOSE', 'foo, close', 'upgrade', 'te, Keep-Alive']);
    connClose = conn.toLowerCase().includes('close');
    connKeepAlive = conn.toLowerCase().includes('keep-alive');
    headers.push('connection', conn);
    wire.push(`Connection: ${conn}\r\n`);
  }
  const insertField = (name: string, value: string, line: string): void => {
    const at = int(wire.length + 1);
    wire.splice(at, 0, line);
    headers.splice(at * 2, 0, name, value);
  };
  const noBody = isHead || status === 204 || status === 304;
  const r0 = rnd();
  const framing = noBody ? (rnd() < 0.5 ? 'cl' : 'none') : minor === 1 && r0 < 0.45 ? 'chunked' : r0 < 0.9 ? 'cl' : 'close';
  const bodyLen = rnd() < 0.05 ? int(2000) : int(200);
  let body: Buffer = Buffer.alloc(0);
  let bodyWire: Buffer[] = [];
  let contentLength = -1;
  let trailers: string[] | null = null;

  if (framing === 'cl') {
    contentLength = bodyLen;
    const dup = rnd() < 0.1;
    const v = dup ? `${bodyLen}, ${bodyLen}` : String(bodyLen);
    insertField('content-length', v, `${pick(['Content-Length', 'content-length', 'CONTENT-LENGTH'])}: ${v}\r\n`);
    if (!noBody) {
      body = randomBody(bodyLen);
      bodyWire = [body];
    }
  } else if (framing === 'chunked') {
    insertField('transfer-encoding', 'chunked', 'Transfer-Encoding: chunked\r\n');
    body = randomBody(bodyLen);
    let off = 0;
    while (off < bodyLen) {
      const n = Math.min(bodyLen - off, 1 + int(rnd() < 0.5 ? 16 : 700));
      let size = n.toString(16);
      if (rnd() < 0.3) size = size.toUpperCase();
      if (rnd() < 0.1) size = '0'.repeat(int(4)) + size;
      const ext = rnd() < 0.2 ? `;${token(1, 5)}=${token(1, 5)}` + (rnd() < 0.3 ? ';q="a b"' : '') : '';
      bodyWire.push(Buffer.from(`${size}${ext}\r\n`), body.subarray(off, off + n), Buffer.from('\r\n'));
      off += n;
    }
    bodyWire.push(Buffer.from(rnd() < 0.2 ? '0;end\r\n' : '0\r\n'));
    if (rnd() < 0.3) {
      trailers = [];
      const tw: string[] = [];
      randomFields(1 + int(3), trailers, tw);
      bodyWire.push(Buffer.from(tw.join(''), 'latin1'));
    }
    bodyWire.push(Buffer.from('\r\n'));
  } else if (framing === 'close') {
    body = randomBody(bodyLen);
    bodyWire = [body];
  }
  if (noBody) body = Buffer.alloc(0);

  parts.push(Buffer.from(statusLine + wire.join('') + '\r\n', 'latin1'), ...bodyWire);
  const response = Buffer.concat(parts);
  let keepAlive = minor === 1 ? !connClose : connKeepAlive && !connClose;
  if (framing === 'close') keepAlive = false;
  summary['head'] = {
    statusCode: status,
    statusMessage: reason,
    headers,
    contentLength: framing === 'cl' ? contentLength : -1,
    chunked: framing === 'chunked',
    keepAlive,
  };
  summary['hasBody'] = !noBody && (framing === 'chunked' || framing === 'close' || bodyLen > 0);
  summary['trailers'] = trailers;
  summary['keepAlive'] = keepAlive;
  summary['consumed'] = response.length;
  // for keep-alive framings, sometimes append the start of the next response
  const trailing = framing !== 'close' && rnd() < 0.2 ? Buffer.from('HTTP/1.1 200 OK\r\n') : Buffer.alloc(0);
  return {
    raw: trailing.length ? Buffer.concat([response, trailing]) : response,
    length: response.length,
    head: isHead,
    expected: JSON.stringify(summary),
    body,
    closeDelimited: framing === 'close',
  };
}

function summarize(o: Outcome): string {
  return JSON.stringify({
    infos: o.rec.infos.map((h) => ({ code: h.statusCode, headers: h.headers })),
    head: o.rec.head,
    hasBody: o.rec.hasBody,
    trailers: o.rec.trailers,
    keepAlive: o.rec.keepAlive,
    consumed: o.consumed,
  });
}

t.test('fuzz: valid responses, every split gives the same result', async (t) => {
  const rnd = prng(0x5eed);
  const N = 2000;
  let failures = 0;
  let firstFailure = '';
  let checked = 0;
  for (let i = 0; i < N; i++) {
    const g = generate(rnd);
    for (const mode of ['whole', 'random', 'bytes'] as const) {
      const o = run(g.raw, { head: g.head, mode, rnd });
      const s = summarize(o);
      checked++;
      let problem = '';
      if (o.error !== null) problem = 'error ' + codeOf(o.error);
      else if (s !== g.expected) problem = `summary\n got ${s}\nwant ${g.expected}`;
      else if (!o.rec.body.equals(g.body)) problem = 'body differs';
      else if (!o.rec.completed) problem = 'not completed';
      else if (o.finished !== (g.closeDelimited ? true : null)) problem = 'finish() result ' + String(o.finished);
      else if (o.parser.busy) problem = 'still busy';
      if (problem !== '') {
        failures++;
        if (firstFailure === '') firstFailure = `#${i} ${mode}: ${problem}\ninput: ${JSON.stringify(g.raw.toString('latin1'))}`;
      }
    }
  }
  t.equal(failures, 0, firstFailure || `${checked} parses`);
});

t.test('fuzz: mutated responses parse or throw ParseError, never overrun', async (t) => {
  const rnd = prng(0xbadc0de);
  const int = (n: number): number => Math.floor(rnd() * n);
  const interesting = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x00, 0x30, 0x31, 0x35, 0x66, 0x7f, 0xff, 0x2d, 0x2b];
  const N = 2000;
  let failures = 0;
  let firstFailure = '';
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < N; i++) {
    const g = generate(rnd);
    let b = Buffer.from(g.raw);
    const mutations = 1 + int(3);
    for (let m = 0; m < mutations; m++) {
      const at = int(b.length);
      const kind = int(5);
      const byte = rnd() < 0.6 ? (interesting[int(interesting.length)] as number) : int(256);
      if (kind === 0) b[at] = byte;
      else if (kind === 1) b[at] = (b[at] as number) ^ (1 << int(8));
      else if (kind === 2) b = Buffer.concat([b.subarray(0, at), Buffer.from([byte]), b.subarray(at)]);
      else if (kind === 3) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
      else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(8))]);
    }
    const outcomes = [
      run(b, { head: g.head, mode: 'whole' }),
      run(b, { head: g.head, mode: 'random', rnd }),
      run(b, { head: g.head, mode: 'bytes' }),
    ];
    let problem = '';
    for (const o of outcomes) {
      if (o.error !== null && !(o.error instanceof ParseError)) problem = 'non-ParseError: ' + String(o.error);
      const h = o.rec.head;
      if (o.rec.bodyBytes > 0) {
        if (h === null || o.rec.hasBody !== true) problem = 'body without a body-bearing head';
        else if (!h.chunked && h.contentLength >= 0 && o.rec.bodyBytes > h.contentLength) problem = 'body overrun';
        else if (o.rec.bodyBytes > b.length) problem = 'more body than input';
      }
      if (o.consumed > b.length) problem = 'consumed more than input';
      if (o.error === null && o.parser.busy) problem = 'busy without error at end of input';
      if (o.error instanceof ParseError) {
        // dead until expect()
        try {
          o.parser.execute(Buffer.from('x'));
          problem = 'parser alive after error';
        } catch (err) {
          if (!(err instanceof ParseError)) problem = 'non-ParseError after error';
        }
      }
    }
    // split independence also holds for malformed input
    const [a, ...rest] = outcomes as [Outcome, ...Outcome[]];
    for (const o of rest) {
      if (codeOf(o.error) !== codeOf(a.error)) problem ||= `error differs: ${codeOf(a.error)} vs ${codeOf(o.error)}`;
      else if (a.error === null && (summarize(o) !== summarize(a) || !o.rec.body.equals(a.rec.body))) {
        problem ||= 'result differs between splits';
      }
    }
    if (a.error === null) parsed++;
    else rejected++;
    if (problem !== '') {
      failures++;
      if (firstFailure === '') firstFailure = `#${i}: ${problem}\ninput: ${JSON.stringify(b.toString('latin1'))}`;
    }
  }
  t.equal(failures, 0, firstFailure || `${parsed} parsed, ${rejected} rejected`);
  t.ok(parsed > 50 && rejected > 50, `both outcomes exercised (${parsed} parsed, ${rejected} rejected)`);
});
