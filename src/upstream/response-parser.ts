/**
 * Strict, incremental HTTP/1.1 response parser for the raw net/tls upstream client.
 *
 * Design notes (hot path):
 * - The head is parsed line by line as soon as each CRLF-terminated line is available. When a
 *   head line is complete inside the chunk given to execute() it is parsed in place (no copy);
 *   only a line split across execute() calls is copied into a per-parser scratch buffer that is
 *   reused for the parser's lifetime.
 * - Strings are decoded as latin1 once per field; header names are lowercased only if they
 *   contain an upper-case byte. No regular expressions, no closures per response.
 * - Body bytes are handed out as subarrays of the caller's chunk (no copy).
 * - Chunked framing is a small byte state machine; chunk data is sliced, never scanned.
 */

export interface ResponseHead {
  /** 100..599 */
  statusCode: number;
  statusMessage: string;
  /** flat [name, value, name, value, ...]; names lowercased, values OWS-trimmed, original order, duplicates kept */
  headers: string[];
  /** -1 when not given */
  contentLength: number;
  chunked: boolean;
  /** false when "Connection: close", HTTP/1.0 without keep-alive, close-delimited body, or 101 */
  keepAlive: boolean;
}

export interface ResponseParserHandlers {
  /** 1xx other than 101 (100, 102, 103, ...); the parser then waits for the next head. */
  onInformational(head: ResponseHead): void;
  /** Final head. hasBody is false for HEAD/1xx/204/304 responses and for Content-Length: 0. */
  onHead(head: ResponseHead, hasBody: boolean): void;
  /** A subarray of the input, valid only during the call. Chunked framing removed. Never empty. */
  onBody(chunk: Buffer): void;
  /** Message done. trailers: flat lowercased [name, value, ...] or null when none. */
  onComplete(trailers: string[] | null, keepAlive: boolean): void;
}

export const ParseErrorCode = {
  BAD_STATUS: 'ZTG_UPSTREAM_BAD_STATUS',
  BAD_HEADER: 'ZTG_UPSTREAM_BAD_HEADER',
  HEADER_TOO_LARGE: 'ZTG_UPSTREAM_HEADER_TOO_LARGE',
  BAD_LENGTH: 'ZTG_UPSTREAM_BAD_LENGTH',
  BAD_TRANSFER_ENCODING: 'ZTG_UPSTREAM_BAD_TRANSFER_ENCODING',
  BAD_CHUNK: 'ZTG_UPSTREAM_BAD_CHUNK',
  TRUNCATED: 'ZTG_UPSTREAM_TRUNCATED',
  UNEXPECTED_DATA: 'ZTG_UPSTREAM_UNEXPECTED_DATA',
} as const;
export type ParseErrorCodeValue = (typeof ParseErrorCode)[keyof typeof ParseErrorCode];

export class ParseError extends Error {
  constructor(
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ParseError';
  }
}

export interface ResponseParserLimits {
  /** Whole head including the status line and the final CRLF (also the limit for the trailer section). Default 64 KiB. */
  maxHeaderBytes: number;
  /** Maximum number of header fields (also the limit for trailer fields). Default 100. */
  maxHeaders: number;
  /** Maximum bytes of chunk extensions on one chunk-size line (from the first ';' up to, excluding, the CR). Default 4096. */
  maxChunkExtBytes?: number;
}

const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
const DEFAULT_MAX_HEADERS = 100;
const DEFAULT_MAX_CHUNK_EXT_BYTES = 4096;

// ---- byte constants -------------------------------------------------------------------------
const HTAB = 9;
const LF = 10;
const CR = 13;
const SP = 32;
const COLON = 58;
const SEMI = 59;

// ---- parser states ----------------------------------------------------------------------------
const S_IDLE = 0; // not expecting a response (before expect() or after onComplete)
const S_DEAD = 1; // after a ParseError, until expect()
const S_HEAD = 2; // reading status line / header lines
const S_BODY_CL = 3; // Content-Length body
const S_BODY_CLOSE = 4; // close-delimited body
const S_CHUNK_SIZE = 5; // hex digits of a chunk-size line
const S_CHUNK_EXT = 6; // chunk extensions, skipped up to CR
const S_CHUNK_SIZE_LF = 7; // LF after chunk-size line
const S_CHUNK_DATA = 8;
const S_CHUNK_DATA_CR = 9;
const S_CHUNK_DATA_LF = 10;
const S_TRAILERS = 11; // trailer field lines after last-chunk

// ---- lookup tables ----------------------------------------------------------------------------
/** RFC 9110 tchar */
const TOKEN = new Uint8Array(256);
/** field-vchar / SP / HTAB (also used for the reason phrase and chunk extensions) */
const FIELD_OK = new Uint8Array(256);
/** hex digit value + 1 (0 = not a hex digit) */
const HEX = new Uint8Array(256);
{
  const tchars = "!#$%&'*+-.^_`|~";
  for (let i = 0; i < tchars.length; i++) TOKEN[tchars.charCodeAt(i)] = 1;
  for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
  for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
  for (let c = 97; c <= 122; c++) TOKEN[c] = 1;
  FIELD_OK[HTAB] = 1;
  for (let c = 0x20; c <= 0x7e; c++) FIELD_OK[c] = 1;
  for (let c = 0x80; c <= 0xff; c++) FIELD_OK[c] = 1;
  for (let c = 48; c <= 57; c++) HEX[c] = c - 48 + 1;
  for (let c = 65; c <= 70; c++) HEX[c] = c - 65 + 11;
  for (let c = 97; c <= 102; c++) HEX[c] = c - 97 + 11;
}

const MAX_CL_DIGITS = 15;
const MAX_CHUNK_SIZE_DIGITS = 15;
/** "HTTP/1." */
const HTTP_PREFIX = [72, 84, 84, 80, 47, 49, 46];

/**
 * latin1 decoding of buf[start, end). Node's Buffer has an (undocumented but long-standing)
 * latin1Slice method that skips the encoding dispatch of toString(); fall back to toString().
 */
type Latin1Sliceable = { latin1Slice(start: number, end: number): string };
const latin1: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as unknown as Partial<Latin1Sliceable>).latin1Slice === 'function'
    ? (buf, start, end) => (buf as unknown as Latin1Sliceable).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);

/** Case-insensitive comparison of value[start..end) with a lowercase ASCII token. */
function equalsLowerToken(value: string, start: number, end: number, token: string): boolean {
  const n = token.length;
  if (end - start !== n) return false;
  for (let k = 0; k < n; k++) {
    let c = value.charCodeAt(start + k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== token.charCodeAt(k)) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** Does the comma-separated list `value` contain `token` (lowercase) as an element? */
function listHasToken(value: string, token: string): boolean {
  return someListElement(value, (start, end) => equalsLowerToken(value, start, end, token));
}

/**
 * Calls `each` with the bounds of every element of the comma-separated list `value`
 * (OWS trimmed, empty ones skipped) until it returns true; says whether one did.
 */
function someListElement(value: string, each: (start: number, end: number) => boolean): boolean {
  const n = value.length;
  let i = 0;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c === 44 || isOws(c)) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && value.charCodeAt(j) !== 44) j++;
    let k = j;
    while (k > i && isOws(value.charCodeAt(k - 1))) k--;
    if (each(i, k)) return true;
    i = j + 1;
  }
  return false;
}

/**
 * Parse a Content-Length field value: 1..15 digits, or a comma list of identical such values.
 * Returns the value, or -1 on any syntax error or disagreement.
 */
function parseContentLength(value: string): number {
  const n = value.length;
  let result = -1;
  let i = 0;
  for (;;) {
    // element starts at i (value is already OWS-trimmed at both ends)
    while (i < n && isOws(value.charCodeAt(i))) i++;
    let v = 0;
    let digits = 0;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c < 48 || c > 57) break;
      if (++digits > MAX_CL_DIGITS) return -1;
      v = v * 10 + (c - 48);
      i++;
    }
    if (digits === 0) return -1;
    while (i < n && isOws(value.charCodeAt(i))) i++;
    if (result !== -1 && v !== result) return -1;
    result = v;
    if (i === n) return result;
    if (value.charCodeAt(i) !== 44) return -1;
    i++;
  }
}

export class ResponseParser {
  private readonly handlers: ResponseParserHandlers;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaders: number;
  private readonly maxChunkExtBytes: number;

  private state: number = S_IDLE;
  private requestWasHead = false;
  /** any byte of the current response (incl. 1xx) received since expect() */
  private started = false;
  /** set by complete(); makes execute() return right after the message */
  private stopped = false;
  private error: ParseError | null = null;

  // partial line carried over between execute() calls
  private scratch: Buffer | null = null;
  private scratchLen = 0;
  /** bytes of completed lines in the current head / trailer section */
  private sectionBytes = 0;
  private fieldCount = 0;

  // current head
  private sawStatusLine = false;
  private httpMinor = 1;
  private statusCode = 0;
  private statusMessage = '';
  private headers: string[] = [];
  private contentLength = -1;
  private teSeen = false;
  /** number of transfer codings listed over all Transfer-Encoding fields */
  private teCodings = 0;
  /** all listed codings were "chunked" */
  private teOnlyChunked = true;
  private connClose = false;
  private connKeepAlive = false;
  private keepAlive = false;

  // body
  private remaining = 0;
  private chunkSize = 0;
  private chunkDigits = 0;
  private chunkExtBytes = 0;
  private trailers: string[] | null = null;

  constructor(handlers: ResponseParserHandlers, limits?: Partial<ResponseParserLimits>) {
    this.handlers = handlers;
    this.maxHeaderBytes = checkLimit('maxHeaderBytes', limits?.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES);
    this.maxHeaders = checkLimit('maxHeaders', limits?.maxHeaders, DEFAULT_MAX_HEADERS);
    this.maxChunkExtBytes = checkLimit('maxChunkExtBytes', limits?.maxChunkExtBytes, DEFAULT_MAX_CHUNK_EXT_BYTES);
  }

  /** true while between expect() and onComplete */
  get busy(): boolean {
    return this.state >= S_HEAD;
  }

  /** Prepare for the response to the next request. requestWasHead: then no body regardless of headers. */
  expect(requestWasHead: boolean): void {
    this.requestWasHead = requestWasHead;
    this.started = false;
    this.error = null;
    this.remaining = 0;
    this.chunkSize = 0;
    this.chunkDigits = 0;
    this.chunkExtBytes = 0;
    this.trailers = null;
    this.resetHead();
    this.state = S_HEAD;
  }

  /**
   * Feed bytes. Returns the number of bytes consumed; parsing stops right after a complete
   * message (or after the head of a 101), so a return value < chunk.length means bytes after the
   * response. Throws ParseError on malformed input, and on any non-empty chunk while not busy
   * (ZTG_UPSTREAM_UNEXPECTED_DATA). After a ParseError the parser is dead: execute() rethrows
   * the same error until expect() is called. An exception thrown by a handler propagates as is
   * and leaves the parser in an unspecified state (the connection should be destroyed).
   */
  execute(chunk: Buffer): number {
    const len = chunk.length;
    const state = this.state;
    if (state < S_HEAD) {
      if (state === S_DEAD) throw this.error as ParseError;
      if (len === 0) return 0;
      throw this.fail(ParseErrorCode.UNEXPECTED_DATA, 'data received from upstream while no response was expected');
    }
    if (len === 0) return 0;
    this.started = true;
    this.stopped = false;
    let pos = 0;
    while (pos < len) {
      switch (this.state) {
        case S_HEAD:
        case S_TRAILERS:
          pos = this.readLines(chunk, pos, len);
          break;

        case S_BODY_CL: {
          const avail = len - pos;
          const rem = this.remaining;
          if (avail < rem) {
            this.remaining = rem - avail;
            this.handlers.onBody(pos === 0 ? chunk : chunk.subarray(pos, len));
            return len;
          }
          const end = pos + rem;
          this.remaining = 0;
          this.handlers.onBody(pos === 0 && end === len ? chunk : chunk.subarray(pos, end));
          pos = end;
          this.complete(null);
          break;
        }

        case S_BODY_CLOSE:
          this.handlers.onBody(pos === 0 ? chunk : chunk.subarray(pos, len));
          return len;

        case S_CHUNK_SIZE:
          pos = this.readChunkSize(chunk, pos, len);
          break;

        case S_CHUNK_EXT:
          pos = this.readChunkExt(chunk, pos, len);
          break;

        case S_CHUNK_SIZE_LF:
          if (chunk[pos] !== LF) throw this.fail(ParseErrorCode.BAD_CHUNK, 'expected LF after chunk size');
          pos++;
          if (this.chunkSize === 0) {
            this.state = S_TRAILERS;
            this.sectionBytes = 0;
            this.fieldCount = 0;
          } else {
            this.remaining = this.chunkSize;
            this.state = S_CHUNK_DATA;
          }
          this.chunkSize = 0;
          this.chunkDigits = 0;
          break;

        case S_CHUNK_DATA: {
          const avail = len - pos;
          const rem = this.remaining;
          if (avail <= rem) {
            this.remaining = rem - avail;
            if (this.remaining === 0) this.state = S_CHUNK_DATA_CR;
            this.handlers.onBody(pos === 0 ? chunk : chunk.subarray(pos, len));
            return len;
          }
          const end = pos + rem;
          this.remaining = 0;
          this.state = S_CHUNK_DATA_CR;
          this.handlers.onBody(chunk.subarray(pos, end));
          pos = end;
          // fast path for the CRLF following the data
          if (pos + 1 < len && chunk[pos] === CR && chunk[pos + 1] === LF) {
            pos += 2;
            this.state = S_CHUNK_SIZE;
          }
          break;
        }

        case S_CHUNK_DATA_CR:
          if (chunk[pos] !== CR) throw this.fail(ParseErrorCode.BAD_CHUNK, 'expected CRLF after chunk data');
          pos++;
          this.state = S_CHUNK_DATA_LF;
          break;

        case S_CHUNK_DATA_LF:
          if (chunk[pos] !== LF) throw this.fail(ParseErrorCode.BAD_CHUNK, 'expected CRLF after chunk data');
          pos++;
          this.state = S_CHUNK_SIZE;
          break;

        default:
          // S_IDLE / S_DEAD reached only through a handler calling back into the parser
          return pos;
      }
      if (this.stopped) return pos;
    }
    return pos;
  }

  /**
   * The peer closed the connection. Completes a close-delimited body (onComplete(null, false));
   * throws ParseError(TRUNCATED) if a message was in progress and incomplete; returns false if no
   * message had started (idle close, or the parser was not busy), true otherwise.
   */
  finish(): boolean {
    const state = this.state;
    if (state < S_HEAD) return false;
    if (state === S_HEAD && !this.started) {
      this.state = S_IDLE;
      return false;
    }
    if (state === S_BODY_CLOSE) {
      this.complete(null);
      return true;
    }
    throw this.fail(ParseErrorCode.TRUNCATED, truncatedMessage(state));
  }

  // ---- internals --------------------------------------------------------------------------------

  private fail(code: string, message: string): ParseError {
    const err = new ParseError(code, message);
    this.error = err;
    this.state = S_DEAD;
    this.scratchLen = 0;
    return err;
  }

  private resetHead(): void {
    this.scratchLen = 0;
    this.sectionBytes = 0;
    this.fieldCount = 0;
    this.sawStatusLine = false;
    this.httpMinor = 1;
    this.statusCode = 0;
    this.statusMessage = '';
    this.headers = [];
    this.contentLength = -1;
    this.teSeen = false;
    this.teCodings = 0;
    this.teOnlyChunked = true;
    this.connClose = false;
    this.connKeepAlive = false;
    this.keepAlive = false;
  }

  private complete(trailers: string[] | null): void {
    this.state = S_IDLE;
    this.stopped = true;
    this.handlers.onComplete(trailers, this.keepAlive);
  }

  /**
   * Line-oriented reading of the head (S_HEAD) or the trailer section (S_TRAILERS).
   * Returns the new position; returns len when more data is needed.
   */
  private readLines(buf: Buffer, pos: number, len: number): number {
    const entryState = this.state;
    while (pos < len) {
      const lf = buf.indexOf(LF, pos);
      if (this.scratchLen > 0) {
        // continue a line started in an earlier chunk
        const end = lf === -1 ? len : lf + 1;
        this.appendScratch(buf, pos, end);
        if (lf === -1) return len;
        const lineLen = this.scratchLen;
        this.scratchLen = 0;
        this.processLine(this.scratch as Buffer, 0, lineLen);
        pos = end;
      } else {
        if (lf === -1) {
          this.appendScratch(buf, pos, len);
          return len;
        }
        const end = lf + 1;
        if (this.sectionBytes + (end - pos) > this.maxHeaderBytes) throw this.tooLarge();
        this.processLine(buf, pos, end);
        pos = end;
      }
      if (this.state !== entryState || this.stopped) return pos;
      // a 1xx head was delivered: the state is still S_HEAD but a new head begins
    }
    return pos;
  }

  private tooLarge(): ParseError {
    return this.fail(
      ParseErrorCode.HEADER_TOO_LARGE,
      this.state === S_TRAILERS
        ? `upstream trailer section exceeds ${this.maxHeaderBytes} bytes`
        : `upstream response head exceeds ${this.maxHeaderBytes} bytes`,
    );
  }

  /** Copy buf[start, end) to the partial-line scratch buffer, enforcing the section limit. */
  private appendScratch(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    const newLen = this.scratchLen + n;
    if (this.sectionBytes + newLen > this.maxHeaderBytes) throw this.tooLarge();
    let s = this.scratch;
    if (s === null || s.length < newLen) {
      let size = s === null ? 1024 : s.length * 2;
      while (size < newLen) size *= 2;
      if (size > this.maxHeaderBytes) size = this.maxHeaderBytes;
      const grown = Buffer.allocUnsafe(size);
      if (s !== null && this.scratchLen > 0) s.copy(grown, 0, 0, this.scratchLen);
      this.scratch = s = grown;
    }
    buf.copy(s, this.scratchLen, start, end);
    this.scratchLen = newLen;
    // Reject an obviously wrong status line early instead of waiting for a line end.
    if (this.state === S_HEAD && !this.sawStatusLine) this.checkStatusPrefix(s, newLen);
  }

  private checkStatusPrefix(b: Buffer, n: number): void {
    const m = n < 9 ? n : 9;
    for (let i = 0; i < m; i++) {
      const c = b[i];
      const ok = i < 7 ? c === HTTP_PREFIX[i] : i === 7 ? c === 48 || c === 49 : c === SP;
      if (!ok) throw this.fail(ParseErrorCode.BAD_STATUS, 'malformed upstream status line');
    }
  }

  /** Process one complete line buf[s, e) where buf[e - 1] is LF. */
  private processLine(b: Buffer, s: number, e: number): void {
    const inHead = this.state === S_HEAD;
    const crPos = e - 2;
    if (crPos < s || b[crPos] !== CR) {
      throw this.fail(
        inHead && !this.sawStatusLine ? ParseErrorCode.BAD_STATUS : ParseErrorCode.BAD_HEADER,
        'bare LF in upstream response ' + (inHead ? 'head' : 'trailers'),
      );
    }
    this.sectionBytes += e - s;
    if (inHead && !this.sawStatusLine) {
      this.parseStatusLine(b, s, crPos);
      return;
    }
    if (crPos === s) {
      // empty line: end of section
      if (inHead) this.headComplete();
      else this.complete(this.trailers);
      return;
    }
    this.parseFieldLine(b, s, crPos, inHead);
  }

  private parseStatusLine(b: Buffer, s: number, e: number): void {
    const n = e - s;
    let ok = n >= 12;
    for (let i = 0; ok && i < 7; i++) ok = b[s + i] === HTTP_PREFIX[i];
    if (!ok) throw this.fail(ParseErrorCode.BAD_STATUS, 'malformed upstream status line');
    const minor = b[s + 7] - 48;
    const d1 = b[s + 9] - 48;
    const d2 = b[s + 10] - 48;
    const d3 = b[s + 11] - 48;
    if (
      (minor !== 0 && minor !== 1) ||
      b[s + 8] !== SP ||
      d1 < 1 ||
      d1 > 5 ||
      d2 < 0 ||
      d2 > 9 ||
      d3 < 0 ||
      d3 > 9 ||
      (n > 12 && b[s + 12] !== SP)
    ) {
      throw this.fail(ParseErrorCode.BAD_STATUS, 'malformed upstream status line');
    }
    let message = '';
    const rs = s + 13;
    if (rs < e) {
      for (let i = rs; i < e; i++) {
        if (FIELD_OK[b[i]] === 0) throw this.fail(ParseErrorCode.BAD_STATUS, 'invalid character in upstream reason phrase');
      }
      message = e - rs === 2 && b[rs] === 79 && b[rs + 1] === 75 ? 'OK' : latin1(b, rs, e);
    }
    this.httpMinor = minor;
    this.statusCode = d1 * 100 + d2 * 10 + d3;
    this.statusMessage = message;
    this.sawStatusLine = true;
  }

  private parseFieldLine(b: Buffer, s: number, e: number, inHead: boolean): void {
    const first = b[s];
    if (first === SP || first === HTAB) {
      throw this.fail(ParseErrorCode.BAD_HEADER, 'obsolete line folding in upstream ' + sectionName(inHead));
    }
    if (++this.fieldCount > this.maxHeaders) {
      throw this.fail(
        ParseErrorCode.HEADER_TOO_LARGE,
        `upstream ${sectionName(inHead)} has more than ${this.maxHeaders} fields`,
      );
    }
    let i = s;
    let upper = false;
    for (; i < e; i++) {
      const c = b[i];
      if (c === COLON) break;
      if (TOKEN[c] === 0) {
        throw this.fail(ParseErrorCode.BAD_HEADER, 'invalid character in upstream ' + sectionName(inHead) + ' field name');
      }
      if (c <= 90 && c >= 65) upper = true;
    }
    if (i === e) throw this.fail(ParseErrorCode.BAD_HEADER, 'missing colon in upstream ' + sectionName(inHead) + ' field');
    if (i === s) throw this.fail(ParseErrorCode.BAD_HEADER, 'empty field name in upstream ' + sectionName(inHead));
    let vs = i + 1;
    let ve = e;
    while (vs < ve && isOws(b[vs])) vs++;
    while (ve > vs && isOws(b[ve - 1])) ve--;
    for (let j = vs; j < ve; j++) {
      if (FIELD_OK[b[j]] === 0) {
        throw this.fail(ParseErrorCode.BAD_HEADER, 'invalid character in upstream ' + sectionName(inHead) + ' field value');
      }
    }
    let name = latin1(b, s, i);
    if (upper) name = name.toLowerCase();
    const value = vs === ve ? '' : latin1(b, vs, ve);
    if (inHead) {
      this.headers.push(name, value);
      this.inspectHeader(name, value);
    } else {
      let t = this.trailers;
      if (t === null) this.trailers = t = [];
      t.push(name, value);
    }
  }

  private inspectHeader(name: string, value: string): void {
    switch (name.length) {
      case 14:
        if (name === 'content-length') {
          const v = parseContentLength(value);
          if (v < 0) throw this.fail(ParseErrorCode.BAD_LENGTH, 'invalid Content-Length in upstream response');
          if (this.contentLength !== -1 && this.contentLength !== v) {
            throw this.fail(ParseErrorCode.BAD_LENGTH, 'conflicting Content-Length values in upstream response');
          }
          this.contentLength = v;
        }
        break;
      case 17:
        if (name === 'transfer-encoding') this.inspectTransferEncoding(value);
        break;
      case 10:
        if (name === 'connection') {
          if (listHasToken(value, 'close')) this.connClose = true;
          if (listHasToken(value, 'keep-alive')) this.connKeepAlive = true;
        }
        break;
      default:
        break;
    }
  }

  /** Record the codings of one Transfer-Encoding field; the verdict is made in headComplete(). */
  private inspectTransferEncoding(value: string): void {
    this.teSeen = true;
    someListElement(value, (start, end) => {
      this.teCodings++;
      if (!equalsLowerToken(value, start, end, 'chunked')) this.teOnlyChunked = false;
      return false;
    });
  }

  private headComplete(): void {
    const code = this.statusCode;
    if (code < 200 && code !== 101) {
      const info: ResponseHead = {
        statusCode: code,
        statusMessage: this.statusMessage,
        headers: this.headers,
        contentLength: this.contentLength,
        chunked: false,
        keepAlive: this.httpMinor === 1 ? !this.connClose : this.connKeepAlive && !this.connClose,
      };
      this.resetHead(); // wait for the next head; `started` stays true
      this.handlers.onInformational(info);
      return;
    }

    let keepAlive = this.httpMinor === 1 ? !this.connClose : this.connKeepAlive && !this.connClose;
    let chunked = false;
    let hasBody: boolean;
    let next: number;
    if (code === 101) {
      keepAlive = false;
      hasBody = false;
      next = S_IDLE;
    } else if (this.requestWasHead || code === 204 || code === 304) {
      hasBody = false;
      next = S_IDLE;
    } else if (this.teSeen) {
      if (this.contentLength !== -1) {
        throw this.fail(
          ParseErrorCode.BAD_TRANSFER_ENCODING,
          'upstream response has both Transfer-Encoding and Content-Length',
        );
      }
      if (this.httpMinor === 0) {
        throw this.fail(ParseErrorCode.BAD_TRANSFER_ENCODING, 'Transfer-Encoding in an HTTP/1.0 upstream response');
      }
      if (this.teCodings !== 1 || !this.teOnlyChunked) {
        throw this.fail(
          ParseErrorCode.BAD_TRANSFER_ENCODING,
          'unsupported Transfer-Encoding in upstream response (only "chunked" is accepted)',
        );
      }
      chunked = true;
      hasBody = true;
      next = S_CHUNK_SIZE;
    } else if (this.contentLength > 0) {
      hasBody = true;
      next = S_BODY_CL;
      this.remaining = this.contentLength;
    } else if (this.contentLength === 0) {
      hasBody = false;
      next = S_IDLE;
    } else {
      keepAlive = false;
      hasBody = true;
      next = S_BODY_CLOSE;
    }

    const head: ResponseHead = {
      statusCode: code,
      statusMessage: this.statusMessage,
      headers: this.headers,
      contentLength: this.contentLength,
      chunked,
      keepAlive,
    };
    this.keepAlive = keepAlive;
    this.sectionBytes = 0;
    this.fieldCount = 0;
    if (next === S_IDLE) {
      // no body: the message completes right after the head
      this.handlers.onHead(head, false);
      this.complete(null);
      return;
    }
    this.state = next;
    this.handlers.onHead(head, hasBody);
  }

  private readChunkSize(b: Buffer, pos: number, len: number): number {
    let size = this.chunkSize;
    let digits = this.chunkDigits;
    while (pos < len) {
      const c = b[pos];
      const h = HEX[c];
      if (h !== 0) {
        if (++digits > MAX_CHUNK_SIZE_DIGITS) throw this.fail(ParseErrorCode.BAD_CHUNK, 'chunk size has too many digits');
        size = size * 16 + (h - 1);
        pos++;
        continue;
      }
      if (digits === 0) throw this.fail(ParseErrorCode.BAD_CHUNK, 'invalid chunk size line');
      if (size > Number.MAX_SAFE_INTEGER) throw this.fail(ParseErrorCode.BAD_CHUNK, 'chunk size too large');
      if (c === CR) this.state = S_CHUNK_SIZE_LF;
      else if (c === SEMI) {
        this.state = S_CHUNK_EXT;
        this.chunkExtBytes = 1; // the ';' counts (maxChunkExtBytes >= 1)
      } else throw this.fail(ParseErrorCode.BAD_CHUNK, 'invalid character after chunk size');
      this.chunkSize = size;
      this.chunkDigits = digits;
      return pos + 1;
    }
    this.chunkSize = size;
    this.chunkDigits = digits;
    return pos;
  }

  private readChunkExt(b: Buffer, pos: number, len: number): number {
    let n = this.chunkExtBytes;
    const max = this.maxChunkExtBytes;
    while (pos < len) {
      const c = b[pos];
      if (c === CR) {
        this.chunkExtBytes = n;
        this.state = S_CHUNK_SIZE_LF;
        return pos + 1;
      }
      if (FIELD_OK[c] === 0) throw this.fail(ParseErrorCode.BAD_CHUNK, 'invalid character in chunk extension');
      if (++n > max) throw this.fail(ParseErrorCode.BAD_CHUNK, `chunk extensions exceed ${max} bytes`);
      pos++;
    }
    this.chunkExtBytes = n;
    return pos;
  }
}

function sectionName(inHead: boolean): string {
  return inHead ? 'header' : 'trailer';
}

function truncatedMessage(state: number): string {
  switch (state) {
    case S_HEAD:
      return 'upstream closed the connection in the middle of the response head';
    case S_BODY_CL:
      return 'upstream closed the connection before the end of the Content-Length body';
    case S_TRAILERS:
      return 'upstream closed the connection in the middle of the trailer section';
    default:
      return 'upstream closed the connection in the middle of a chunked body';
  }
}

function checkLimit(name: string, value: number | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`ResponseParser limit ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
