import type { HttpResponse } from 'uWebSockets.js';
import type { HeaderList } from '../pipeline/headers.js';
import { statusLine } from '../pipeline/respond.js';

/**
 * Largest chunked-body piece written at once. uWS (as pinned) drops a write made while
 * corked that does not fit its 16 KiB cork buffer when flushing that buffer meets a full
 * socket; chunked body writes therefore go out in pieces that fit, each in a cork of its own.
 */
const CHUNK_PIECE = 16 * 1024 - 64;

/** Where the answer to the client stands. */
export const Out = {
  /** Nothing written to the client yet. */
  None: 0,
  /** Head written, body streaming with a known length (tryEnd). */
  Length: 1,
  /** Head written, body streaming chunked (write). */
  Chunked: 2,
  /** Collecting the whole response for buffering stages. */
  Buffering: 3,
  /** Head-only response stages are running; body chunks wait. */
  Holding: 4,
  /** Client side finished. */
  Done: 5,
  /**
   * The upstream's head is in hand, kept until the first body byte: should the
   * upstream fail before it, nothing has left and the client gets a 502/504.
   */
  HeadHeld: 6,
} as const;
export type Out = (typeof Out)[keyof typeof Out];

/** What the writer needs of its exchange. */
export interface ClientWriterHost {
  /** The last byte of the answer was handed to uWS. */
  finishClient(): void;
  /** The client socket is full: stop reading the upstream. */
  pauseUpstream(): void;
  /** It can take more. */
  resumeUpstream(): void;
}

/**
 * The client side of an exchange: the upstream's answer written out through
 * uWS with backpressure (tryEnd for a known length, write for chunked; the
 * upstream is paused until uWS is writable again), and the cork workarounds
 * the pinned uWS needs. It holds the client-side state (`out`) the exchange
 * steers by.
 */
export class ClientWriter {
  out: Out = Out.None;
  /** Response body bytes handed to uWS. */
  bytesOut = 0;
  /** The upstream is paused for a full client socket. */
  upstreamPaused = false;
  private responseTotal = 0;
  private pending: Buffer | null = null;
  private pendingOffset = 0;
  /** Inside corked(): chunked body bytes and the end wait until the cork is released. */
  private inCork = false;
  private corkedChunks: Buffer[] | null = null;
  private endAfterCork = false;
  private held: { status: number; message: string; headers: HeaderList; contentLength: number } | null = null;

  constructor(
    private readonly res: HttpResponse,
    private readonly requestId: string,
    private readonly method: string,
    private readonly host: ClientWriterHost,
  ) {}

  /** Runs what the upstream socket delivered in one read, corked unless chunked body writes cork themselves. */
  batch(fn: () => void): void {
    // Chunked body writes cork themselves, piece by piece (see CHUNK_PIECE).
    if (this.out === Out.Done || this.out === Out.Chunked) fn();
    else this.corked(fn);
  }

  /** Runs `fn` corked; chunked body bytes it produced are written after, outside that cork. */
  corked(fn: () => void): void {
    this.inCork = true;
    try {
      this.res.cork(fn);
    } finally {
      this.inCork = false;
    }
    const chunks = this.corkedChunks;
    this.corkedChunks = null;
    if (chunks) for (const chunk of chunks) this.writeChunked(chunk);
    if (this.endAfterCork) {
      this.endAfterCork = false;
      this.endChunked();
    }
  }

  /**
   * The response head: a bodiless or empty answer is written and ends here;
   * one with a body is held (Out.HeadHeld) until its first byte, releaseHead().
   */
  writeHead(status: number, message: string, headers: HeaderList, hasBody: boolean, contentLength: number): void {
    if (hasBody && contentLength !== 0) {
      this.held = { status, message, headers, contentLength };
      this.out = Out.HeadHeld;
      return;
    }
    this.writeHeadNow(status, message, headers, hasBody, contentLength);
  }

  /** The first body byte is here (or a chunked answer ended empty): the held head goes out, corked by the caller. */
  releaseHead(): void {
    const h = this.held!;
    this.held = null;
    this.writeHeadNow(h.status, h.message, h.headers, true, h.contentLength);
  }

  private writeHeadNow(status: number, message: string, headers: HeaderList, hasBody: boolean, contentLength: number): void {
    const res = this.res;
    res.writeStatus(statusLine(status, message));
    const raw = headers.raw;
    for (let i = 0; i < raw.length; i += 2) res.writeHeader(raw[i], raw[i + 1]);
    res.writeHeader('x-request-id', this.requestId);
    if (!hasBody) {
      // HEAD keeps the length the upstream announced; 204/304 have none; others have an empty body.
      if (this.method === 'HEAD') {
        // Written by hand: uWS endWithoutBody(length) counts the response as unfinished and
        // closes the connection when the next request arrives on it.
        if (contentLength >= 0) res.writeHeader('content-length', String(contentLength));
        res.endWithoutBody();
      } else if (status === 204 || status === 304) res.endWithoutBody();
      else res.end();
      this.host.finishClient();
      return;
    }
    if (contentLength >= 0) {
      this.out = Out.Length;
      this.responseTotal = contentLength;
      if (contentLength === 0) {
        res.end();
        this.host.finishClient();
      }
    } else {
      this.out = Out.Chunked;
    }
  }

  /** A body chunk of a known-length answer (the upstream's read buffer: copied if it must wait). */
  writeLength(chunk: Buffer): void {
    this.bytesOut += chunk.length;
    const res = this.res;
    const offset = res.getWriteOffset();
    const [ok, done] = res.tryEnd(chunk, this.responseTotal);
    if (done) this.host.finishClient();
    // Kept until writable: the upstream read buffer is reused, so copy.
    else if (!ok) this.waitWritable(Buffer.from(chunk), offset);
  }

  writeChunked(chunk: Buffer): void {
    if (this.inCork) {
      (this.corkedChunks ??= []).push(chunk);
      return;
    }
    if (this.out !== Out.Chunked) return;
    this.bytesOut += chunk.length;
    let ok = true;
    for (let off = 0; off < chunk.length; off += CHUNK_PIECE) {
      const piece = chunk.length <= CHUNK_PIECE ? chunk : chunk.subarray(off, off + CHUNK_PIECE);
      this.res.cork(() => {
        if (!this.res.write(piece)) ok = false;
      });
    }
    if (!ok) this.waitWritable(null, 0);
  }

  /** The upstream finished a chunked answer: end it now, or once the cork in progress is released. */
  endChunkedSoon(): void {
    if (this.inCork) this.endAfterCork = true;
    else this.endChunked();
  }

  /** A whole answer at once (after buffering stages), corked. */
  writeWhole(status: number, message: string, headers: HeaderList, body: Buffer): void {
    const res = this.res;
    res.cork(() => {
      res.writeStatus(statusLine(status, message));
      const raw = headers.raw;
      for (let i = 0; i < raw.length; i += 2) res.writeHeader(raw[i], raw[i + 1]);
      res.writeHeader('x-request-id', this.requestId);
      this.out = Out.Length;
      this.responseTotal = body.length;
      this.bytesOut = body.length;
      const [ok, done] = res.tryEnd(body, body.length);
      if (done) this.host.finishClient();
      else if (!ok) this.waitWritable(body, 0);
    });
  }

  private endChunked(): void {
    if (this.out !== Out.Chunked) return;
    this.res.cork(() => this.res.end());
    this.host.finishClient();
  }

  /** Client socket full: stop reading the upstream until uWS can take more. */
  private waitWritable(chunk: Buffer | null, offset: number): void {
    this.pending = chunk;
    this.pendingOffset = offset;
    if (!this.upstreamPaused) {
      this.upstreamPaused = true;
      this.host.pauseUpstream();
    }
    this.res.onWritable((newOffset) => {
      if (this.out === Out.Done) return true;
      const pending = this.pending;
      if (pending) {
        const [ok, done] = this.res.tryEnd(pending.subarray(newOffset - this.pendingOffset), this.responseTotal);
        if (done) {
          this.host.finishClient();
          return true;
        }
        if (!ok) return false;
        this.pending = null;
      }
      this.upstreamPaused = false;
      this.host.resumeUpstream();
      return true;
    });
  }
}
