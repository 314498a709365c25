import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ResponseParser, ParseError, type ResponseHead } from './response-parser.js';
import { Errors, GatewayError } from '../errors.js';
import type { Target } from './target.js';
import type { TimeoutConfig } from './types.js';

/**
 * The read buffer every plain upstream socket of this process shares: a read
 * is parsed and handed on synchronously, so it is free again before the next.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** What the proxy hears about one request/response exchange on a connection. */
export interface ExchangeHandler {
  onHead(head: ResponseHead, hasBody: boolean): void;
  /** A subarray of a socket read, valid only during the call: copy what you keep. */
  onBody(chunk: Buffer): void;
  onComplete(): void;
  /**
   * The exchange failed. `replayable`: nothing of a response arrived on a
   * reused connection (the upstream closed it while idle), so a request whose
   * body is not streaming may be sent again on a fresh connection.
   * `unsent`: the connection never came up (refused, connect timeout, TLS
   * handshake), so no byte of the request reached the upstream.
   */
  onError(error: GatewayError, replayable: boolean, unsent: boolean): void;
  /** Runs `fn` with client writes batched (uWS cork). */
  batch(fn: () => void): void;
  /** The upload may continue (the upstream socket drained). */
  onDrain(): void;
}

const enum Phase {
  Connecting,
  Idle,
  Sending,
  AwaitingHead,
  ReceivingBody,
  Closed,
}

export interface ConnectionOwner {
  onIdle(conn: UpstreamConnection): void;
  onClosed(conn: UpstreamConnection): void;
}

/**
 * One keep-alive socket to a target, written and parsed by the project:
 * the request head goes out as one string, the response is parsed by the
 * strict parser, and the socket is handed back to the pool only when both
 * sides of the exchange ended cleanly.
 */
export class UpstreamConnection {
  readonly socket: Socket;
  private readonly parser: ResponseParser;
  private phase = Phase.Connecting;
  private handler: ExchangeHandler | null = null;
  private requestEnded = false;
  private responseEnded = false;
  private receivedAny = false;
  private responseKeepAlive = true;
  private tcpConnected = false;
  served = 0;

  constructor(
    readonly target: Target,
    private readonly owner: ConnectionOwner,
    private readonly timeouts: TimeoutConfig,
    private readonly idleTimeoutMs: number,
  ) {
    const options = { host: target.host, port: target.port, noDelay: true };
    this.socket = target.tls
      ? tlsConnect({ ...options, ...target.tlsOptions, ALPNProtocols: ['http/1.1'] })
      : // Plain sockets read into one shared buffer, straight into the parser: no
        // stream machinery and no Buffer per read (native-bench/NOTES.md).
        netConnect({ ...options, onread: { buffer: READ_BUFFER, callback: (n: number, buf: Buffer) => this.onRead(n, buf) } });
    this.socket.setTimeout(timeouts.connectMs);
    this.socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      if (this.phase !== Phase.Connecting) return;
      // A request may have been dispatched (and buffered by the socket) while connecting.
      this.phase = !this.handler ? Phase.Idle : this.requestEnded ? Phase.AwaitingHead : Phase.Sending;
      this.armTimer();
    });
    if (target.tls) {
      // TCP up but no secureConnect yet: an error now is the handshake (untrusted or wrong-name certificate).
      this.socket.once('connect', () => (this.tcpConnected = true));
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    }
    this.socket.on('drain', () => this.handler?.onDrain());
    this.socket.on('timeout', () => this.onTimeout());
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(this.socketError(err)));
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.onClose());

    this.parser = new ResponseParser({
      onInformational: () => {
        /* 100 Continue and 103 Early Hints stay between gateway and upstream */
      },
      onHead: (head, hasBody) => {
        this.phase = Phase.ReceivingBody;
        this.armTimer();
        this.handler?.onHead(head, hasBody);
      },
      onBody: (chunk) => this.handler?.onBody(chunk),
      onComplete: (_trailers, keepAlive) => {
        this.responseEnded = true;
        this.responseKeepAlive = keepAlive;
        const handler = this.handler;
        this.maybeFinish();
        handler?.onComplete();
      },
    });
  }

  get connecting(): boolean {
    return this.phase === Phase.Connecting;
  }

  /** Sends a request head (and the whole body when it is at hand). */
  dispatch(handler: ExchangeHandler, head: string, isHead: boolean, bodyFollows: boolean): void {
    this.handler = handler;
    this.requestEnded = !bodyFollows;
    this.responseEnded = false;
    this.receivedAny = false;
    this.served++;
    this.parser.expect(isHead);
    // The previous exchange may have left reading paused (client backpressure).
    if (this.socket.isPaused()) this.socket.resume();
    if (this.phase !== Phase.Connecting) {
      this.phase = bodyFollows ? Phase.Sending : Phase.AwaitingHead;
      this.armTimer();
    }
    this.socket.write(head, 'latin1');
  }

  /** Returns false when the socket buffer is full; onDrain follows. */
  writeBody(chunk: Buffer | string): boolean {
    return this.socket.write(chunk as Buffer);
  }

  endBody(trailer?: string): void {
    if (trailer) this.socket.write(trailer, 'latin1');
    this.requestEnded = true;
    if (this.phase === Phase.Sending) {
      this.phase = Phase.AwaitingHead;
      this.armTimer();
    }
    this.maybeFinish();
  }

  /** The client cannot take more: stop reading. The upstream is not idle meanwhile, so no idle timer runs. */
  pause(): void {
    this.socket.pause();
    this.socket.setTimeout(0);
  }

  resume(): void {
    this.socket.resume();
    if (this.phase !== Phase.Closed) this.armTimer();
  }

  /** Abandons the exchange (client went away): the socket cannot be reused. */
  abandon(): void {
    this.handler = null;
    this.destroy();
  }

  destroy(): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    this.socket.destroy();
  }

  private armTimer(): void {
    switch (this.phase) {
      case Phase.Connecting:
        this.socket.setTimeout(this.timeouts.connectMs);
        break;
      case Phase.Idle:
        this.socket.setTimeout(this.idleTimeoutMs);
        break;
      case Phase.AwaitingHead:
        this.socket.setTimeout(this.timeouts.firstByteMs);
        break;
      default:
        this.socket.setTimeout(this.timeouts.idleMs);
    }
  }

  private onRead(n: number, buf: Buffer): boolean {
    this.onData(buf.subarray(0, n));
    return true;
  }

  private onData(chunk: Buffer): void {
    const handler = this.handler;
    if (!handler || !this.parser.busy) {
      // Bytes from an idle upstream cannot belong to any request.
      this.destroy();
      return;
    }
    this.receivedAny = true;
    handler.batch(() => {
      try {
        const used = this.parser.execute(chunk);
        if (used < chunk.length && this.phase !== Phase.Closed) {
          throw new ParseError('ZTG_UPSTREAM_UNEXPECTED_DATA', 'bytes after the end of the response');
        }
      } catch (err) {
        this.fail(this.parseFailure(err));
      }
    });
  }

  private parseFailure(err: unknown): GatewayError {
    if (err instanceof ParseError) {
      const kind = err.code === 'ZTG_UPSTREAM_TRUNCATED' ? Errors.UPSTREAM_RESET : Errors.UPSTREAM_BAD_RESPONSE;
      return new GatewayError(kind, `${err.code}: ${err.message}`);
    }
    throw err;
  }

  /** Exchange done on both sides: back to the pool, or closed. */
  private maybeFinish(): void {
    if (!this.requestEnded || !this.responseEnded || this.phase === Phase.Closed) return;
    this.handler = null;
    if (!this.responseKeepAlive) {
      this.destroy();
      return;
    }
    this.phase = Phase.Idle;
    this.armTimer();
    this.owner.onIdle(this);
  }

  private onTimeout(): void {
    const phase = this.phase;
    if (phase === Phase.Idle) {
      this.destroy();
      return;
    }
    const what = phase === Phase.Connecting ? 'connect' : phase === Phase.AwaitingHead ? 'first byte' : 'idle';
    this.fail(new GatewayError(Errors.UPSTREAM_TIMEOUT, `${what} timeout to ${this.target.url}`));
  }

  private socketError(err: NodeJS.ErrnoException): GatewayError {
    const connectPhase = this.phase === Phase.Connecting;
    if (connectPhase && this.tcpConnected) {
      // Nothing was sent: a TLS socket holds writes until the handshake succeeds.
      return new GatewayError(Errors.UPSTREAM_TLS, `TLS handshake with ${this.target.url} failed: ${err.code ?? 'ERR'} ${err.message}`);
    }
    const kind = connectPhase ? Errors.UPSTREAM_CONNECT : Errors.UPSTREAM_RESET;
    return new GatewayError(kind, `${err.code ?? err.message} ${connectPhase ? 'connecting to' : 'from'} ${this.target.url}`);
  }

  private onEnd(): void {
    const handler = this.handler;
    if (handler && this.parser.busy) {
      let settled = false;
      // Completing a close-delimited body writes its end to the client: batched like onData.
      handler.batch(() => {
        try {
          settled = this.parser.finish(); // close-delimited body completed
        } catch (err) {
          this.fail(this.parseFailure(err));
          settled = true;
        }
      });
      if (settled) return;
      this.fail(new GatewayError(Errors.UPSTREAM_RESET, `${this.target.url} closed the connection before responding`));
      return;
    }
    this.destroy();
  }

  private fail(error: GatewayError): void {
    const handler = this.handler;
    const unsent = this.phase === Phase.Connecting;
    // Only a close or reset of a reused socket is the keep-alive race; after a timeout the service had the request.
    const replayable = this.served > 1 && !this.receivedAny && !unsent && error.kind !== Errors.UPSTREAM_TIMEOUT;
    this.handler = null;
    this.destroy();
    handler?.onError(error, replayable, unsent);
  }

  private onClose(): void {
    const handler = this.handler;
    if (handler) {
      this.handler = null;
      const unsent = this.phase === Phase.Connecting;
      handler.onError(new GatewayError(Errors.UPSTREAM_RESET, `connection to ${this.target.url} closed`), this.served > 1 && !this.receivedAny && !unsent, unsent);
    }
    this.phase = Phase.Closed;
    this.owner.onClosed(this);
  }
}
