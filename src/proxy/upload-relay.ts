import type { HttpResponse } from 'uWebSockets.js';
import { Errors, GatewayError } from '../errors.js';
import type { UpstreamConnection } from '../upstream/connection.js';
import type { BodyFraming } from './forward-headers.js';

/** Buffered upload bytes before the client is paused while no upstream socket is ready. */
const MAX_BUFFERED_UPLOAD = 256 * 1024;
/**
 * Upload bytes queued to a slow upstream before the exchange is refused. Only a
 * client that keeps sending while paused gets here (see onData).
 */
const MAX_UPLOAD_BACKLOG = 32 * 1024 * 1024;

/**
 * The client's upload on its way upstream: held while no socket is ready (or
 * collected whole for a stage that reads the body), then streamed into the
 * upstream socket with backpressure (the client paused while the socket is
 * full), chunk-framed when the client sent it chunked. What went to a socket
 * still connecting is kept, so a connect failure can send it elsewhere.
 */
export class UploadRelay {
  /** Bytes received from the client so far. */
  received = 0;
  /** The client sent its last byte (true at once without a body). */
  done: boolean;
  /** Upload chunks waiting for a socket. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private streaming = false;
  private clientPaused = false;
  private collecting: (() => void) | null = null;
  /** The whole upload as handed to a connecting socket: a connect failure may send it again. */
  private sentBody: Buffer[] | null = null;

  constructor(
    private readonly res: HttpResponse,
    /** Content-Length of the upload, 'chunked', or 0 when there is none. */
    readonly framing: BodyFraming,
    private readonly maxBodyBytes: number,
    /** The exchange, ended when the upload breaks a limit. */
    private readonly exchange: { fail(error: GatewayError, closeClient: boolean): void },
  ) {
    this.done = framing === 0;
  }

  /** uWS onData: `conn` is the exchange's upstream connection, if it has one. */
  onData(chunk: ArrayBuffer, isLast: boolean, conn: UpstreamConnection | null): void {
    if (chunk.byteLength > 0) {
      this.received += chunk.byteLength;
      if (this.received > this.maxBodyBytes) {
        this.exchange.fail(new GatewayError(Errors.BODY_TOO_LARGE, `body over ${this.maxBodyBytes} bytes while streaming`), true);
        return;
      }
      // uWS neuters the ArrayBuffer when this callback returns: copy.
      const copy = Buffer.copyBytesFrom(new Uint8Array(chunk));
      if (this.streaming && conn) {
        if (this.sentBody !== null) {
          if (conn.connecting) this.sentBody.push(copy);
          else this.sentBody = null;
        }
        if (!this.write(conn, copy)) this.pauseClient();
        // uWS 6.0.1 keeps delivering onData after res.pause() when a fast client fills its
        // 512 KiB reads (native-bench/NOTES.md); memory stays bounded by refusing the rest.
        if (conn.socket.writableLength > MAX_UPLOAD_BACKLOG) {
          this.exchange.fail(new GatewayError(Errors.UPLOAD_BACKLOG, `upload backlog over ${MAX_UPLOAD_BACKLOG} bytes: the client ignored backpressure`), true);
        }
      } else {
        this.chunks.push(copy);
        this.buffered += copy.length;
        // Collecting for a stage is bounded by maxBodyBytes; otherwise hold little.
        if (!this.collecting && this.buffered > MAX_BUFFERED_UPLOAD) this.pauseClient();
      }
    }
    if (isLast) {
      this.done = true;
      if (this.streaming && conn) conn.endBody(this.framing === 'chunked' ? '0\r\n\r\n' : undefined);
      const collecting = this.collecting;
      this.collecting = null;
      collecting?.();
    }
  }

  /** Resolves when the whole upload is in memory (stages that declared needsRequestBody). */
  collect(): Promise<Buffer> {
    return new Promise((resolve) => {
      const finish = () => {
        const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
        this.chunks = [body];
        resolve(body);
      };
      if (this.done) finish();
      else {
        this.collecting = finish;
        // Bytes that came before the stages started may have paused the client: a stage collects whole.
        this.resumeClient();
      }
    });
  }

  /** Hands what is held to a socket just dispatched on, then streams the rest into it. */
  sendTo(conn: UpstreamConnection): void {
    for (const chunk of this.chunks) this.write(conn, chunk);
    // Kept (references, no copy) while the socket is still connecting: nothing has left yet, so
    // a connect failure may send it to another target. Once connected, bytes are gone for good.
    this.sentBody = conn.connecting ? this.chunks : null;
    this.chunks = [];
    this.buffered = 0;
    if (this.done) {
      conn.endBody(this.framing === 'chunked' ? '0\r\n\r\n' : undefined);
    } else {
      this.streaming = true;
    }
  }

  /** The whole upload is still at hand to send again (it never left a connecting socket). */
  get resendable(): boolean {
    return this.sentBody !== null;
  }

  /** The upstream answered: what was sent is gone for good. */
  forgetSent(): void {
    this.sentBody = null;
  }

  /** Another try: what a connecting socket was given is held again, to send to the next one. */
  rewind(): void {
    if (this.sentBody !== null && this.framing !== 0) {
      this.chunks = this.sentBody;
      this.streaming = false;
    }
    this.sentBody = null;
  }

  /** The upstream socket drained: let the client send again. */
  resumeClient(): void {
    if (this.clientPaused) {
      this.clientPaused = false;
      this.res.resume();
    }
  }

  private write(conn: UpstreamConnection, chunk: Buffer): boolean {
    if (this.framing !== 'chunked') return conn.writeBody(chunk);
    conn.socket.cork();
    conn.writeBody(`${chunk.length.toString(16)}\r\n`);
    conn.writeBody(chunk);
    const ok = conn.writeBody('\r\n');
    process.nextTick(uncork, conn);
    return ok;
  }

  private pauseClient(): void {
    if (!this.clientPaused) {
      this.clientPaused = true;
      this.res.pause();
    }
  }
}

function uncork(conn: UpstreamConnection): void {
  conn.socket.uncork();
}
