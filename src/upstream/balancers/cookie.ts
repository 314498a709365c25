/**
 * The value of cookie `name` in a Cookie header (RFC 6265 §5.4 layout:
 * `a=1; b=2`), or null. One pass with indexOf, no regex, no split.
 */
export function cookieValue(header: string, name: string): string | null {
  let pos = 0;
  const len = header.length;
  while (pos < len) {
    while (pos < len && (header.charCodeAt(pos) === 0x20 || header.charCodeAt(pos) === 0x3b)) pos++; // ' ' or ';'
    let end = header.indexOf(';', pos);
    if (end === -1) end = len;
    const eq = header.indexOf('=', pos);
    if (eq !== -1 && eq < end && eq - pos === name.length && header.startsWith(name, pos)) {
      const value = header.slice(eq + 1, end).trim();
      return value.length > 0 ? value : null;
    }
    pos = end + 1;
  }
  return null;
}
