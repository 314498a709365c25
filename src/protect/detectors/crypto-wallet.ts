// CRYPTO_WALLET (optional): Bitcoin addresses (base58check P2PKH/P2SH with their
// double-SHA-256 checksum, bech32/bech32m segwit `bc1…`) and Ethereum addresses (`0x` and
// 40 hex digits; mixed case must carry the EIP-55 checksum, keccak-256). The codecs and
// hashes come from @scure/base, @noble/hashes and node:crypto, none written here. A
// candidate is a whole ASCII word of a plausible length; each word is read once.
import { createHash } from 'node:crypto';
import { createBase58check, bech32, bech32m } from '@scure/base';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { type PiiSpan, isAlnum, isWordChar } from './common.js';

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const base58check = createBase58check(sha256);

function isBase58Address(w: string): boolean {
  if (w.length < 26 || w.length > 35 || (w[0] !== '1' && w[0] !== '3')) return false;
  try {
    const payload = base58check.decode(w);
    return payload.length === 21 && (payload[0] === 0x00 || payload[0] === 0x05);
  } catch {
    return false;
  }
}

function isSegwitAddress(w: string): boolean {
  if (w.length < 14 || w.length > 90 || w.slice(0, 3).toLowerCase() !== 'bc1') return false;
  if (w !== w.toLowerCase() && w !== w.toUpperCase()) return false;
  const s = w.toLowerCase() as `${string}1${string}`;
  const v0 = bech32.decodeUnsafe(s, 90);
  const decoded = v0 && v0.words[0] === 0 ? v0 : bech32m.decodeUnsafe(s, 90);
  if (!decoded || decoded.prefix !== 'bc' || decoded.words.length === 0) return false;
  const version = decoded.words[0]!;
  // bech32 for version 0, bech32m for 1..16
  if ((version === 0) !== (decoded === v0) || version > 16) return false;
  const program = bech32.fromWordsUnsafe(decoded.words.slice(1));
  if (!program || program.length < 2 || program.length > 40) return false;
  return version !== 0 || program.length === 20 || program.length === 32;
}

function isEthereumAddress(w: string): boolean {
  if (w.length !== 42 || w[0] !== '0' || (w[1] !== 'x' && w[1] !== 'X')) return false;
  const hex = w.slice(2);
  if (!/^[0-9a-fA-F]{40}$/.test(hex)) return false;
  const lower = hex.toLowerCase();
  if (hex === lower || hex === hex.toUpperCase()) return true; // no checksum written
  const hash = keccak_256(new TextEncoder().encode(lower));
  for (let i = 0; i < 40; i++) {
    const c = hex.charCodeAt(i);
    if (c < 65) continue; // a digit
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
    if ((c <= 90) !== nibble >= 8) return false; // upper case exactly where the hash nibble is 8 or more
  }
  return true;
}

export function detectCryptoWallets(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isAlnum(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && isAlnum(text.charCodeAt(j))) j++;
    const len = j - i;
    if (len >= 14 && len <= 90 && !isWordChar(text.charCodeAt(i - 1) || 32) && !isWordChar(j < n ? text.charCodeAt(j) : 32)) {
      const w = text.slice(i, j);
      if (isBase58Address(w) || isSegwitAddress(w) || isEthereumAddress(w)) out.push({ entity: 'CRYPTO_WALLET', start: i, end: j, score: 0.9 });
    }
    i = j;
  }
  return out;
}
