/**
 * A header list as a flat array [name, value, name, value, ...] with lowercase
 * names: the shape uWS hands us and the upstream writer consumes, so no
 * conversion is needed on the hot path. Duplicates are kept in order.
 */
export class HeaderList {
  constructor(readonly raw: string[] = []) {}

  get(name: string): string | undefined {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) if (raw[i] === name) return raw[i + 1];
    return undefined;
  }

  count(name: string): number {
    let n = 0;
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) if (raw[i] === name) n++;
    return n;
  }

  add(name: string, value: string): void {
    this.raw.push(name, value);
  }

  set(name: string, value: string): void {
    this.remove(name);
    this.raw.push(name, value);
  }

  remove(name: string): void {
    const raw = this.raw;
    let w = 0;
    for (let r = 0; r < raw.length; r += 2) {
      if (raw[r] === name) continue;
      raw[w++] = raw[r];
      raw[w++] = raw[r + 1];
    }
    raw.length = w;
  }
}
