// Compressed upstream answers on a route set to `compressed: decompress`: decoded
// with node:zlib off the event loop (zlib's thread pool), never beyond a cap, so a
// small zip bomb cannot make the gateway hold gigabytes; encoded again afterwards.
import { brotliCompress, brotliDecompress, constants, deflate, gunzip, gzip, inflate, type InputType, type ZlibOptions, type BrotliOptions } from 'node:zlib';
import { promisify } from 'node:util';

/** The encodings a scanning route can read, in the order offered upstream. */
export const DECODABLE: readonly string[] = ['gzip', 'deflate', 'br'];

export class DecompressLimitError extends Error {}

type Codec = (buf: InputType, options: ZlibOptions & BrotliOptions) => Promise<Buffer>;
const decoders: Record<string, Codec> = { gzip: promisify(gunzip) as Codec, deflate: promisify(inflate) as Codec, br: promisify(brotliDecompress) as Codec };
const encoders: Record<string, Codec> = { gzip: promisify(gzip) as Codec, deflate: promisify(deflate) as Codec, br: promisify(brotliCompress) as Codec };

/** The decoded body; DecompressLimitError past `maxBytes` (zlib stops there: the rest is never inflated). */
export async function decodeBody(body: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  try {
    return await decoders[encoding]!(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressLimitError(`over ${maxBytes} bytes`);
    throw err;
  }
}

/** Encodes for the client: brotli at quality 4 (fast; the scan already cost a pass), zlib at its default. */
export function encodeBody(body: Buffer, encoding: string): Promise<Buffer> {
  const options = encoding === 'br' ? { params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } } : {};
  return encoders[encoding]!(body, options);
}

/** Whether an Accept-Encoding header admits `encoding` (listed, or `*`, with q above 0). */
export function acceptsEncoding(header: string | undefined, encoding: string): boolean {
  if (!header) return false;
  let star = false;
  for (const part of header.slice(0, 1024).split(',')) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (token === encoding) return ok;
    if (token === '*') star = ok;
  }
  return star;
}
