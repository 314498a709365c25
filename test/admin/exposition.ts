/**
 * A strict reader of the Prometheus text format 0.0.4, for tests: every line
 * must be a HELP, a TYPE or a sample of the family last typed; label values
 * are unescaped. Throws on the first line that does not fit.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample with this name and these labels (exact match), or undefined. */
  get(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a line feed');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  let current = '';
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) {
      if (!new RegExp(`^# HELP ${NAME} `).test(line) && !new RegExp(`^# HELP ${NAME}$`).test(line)) throw new Error(`bad HELP: ${line}`);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|summary|histogram|untyped)$`).exec(line);
      if (!m) throw new Error(`bad TYPE: ${line}`);
      if (types.has(m[1])) throw new Error(`family typed twice: ${m[1]}`);
      types.set(m[1], m[2]);
      current = m[1];
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample line: ${JSON.stringify(line)}`);
    const [, name, , labelText, raw] = m;
    const base = name.replace(/_(sum|count)$/, '');
    if (name !== current && !(base === current && types.get(current) === 'summary')) throw new Error(`sample ${name} outside its family (${current})`);
    const labels: Record<string, string> = {};
    if (labelText !== undefined && labelText !== '') {
      LABEL.lastIndex = 0;
      let at = 0;
      while (at < labelText.length) {
        LABEL.lastIndex = at;
        const l = LABEL.exec(labelText);
        if (!l) throw new Error(`bad labels: ${labelText}`);
        if (l[1] in labels) throw new Error(`label twice: ${l[1]}`);
        labels[l[1]] = l[2].replace(/\\(["\\n])/g, (_s, c: string) => (c === 'n' ? '\n' : c));
        at = LABEL.lastIndex;
      }
    }
    const value = raw === 'NaN' ? NaN : raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (raw !== 'NaN' && Number.isNaN(value)) throw new Error(`bad value: ${line}`);
    samples.push({ name, labels, value });
  }
  return {
    types,
    samples,
    get(name, labels = {}) {
      const want = Object.entries(labels);
      const hit = samples.find((s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v));
      return hit?.value;
    },
  };
}
