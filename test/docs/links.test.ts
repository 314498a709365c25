import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../helpers/gateway.js';

/** Every relative link in the README and docs/ reaches a file, and every #anchor a heading in it. */

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

function anchors(file: string): Set<string> {
  const out = new Set<string>();
  let code = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) code = !code;
    const m = !code && /^#{1,6} (.*)$/.exec(line);
    if (m) out.add(slug(m[1]!));
  }
  return out;
}

t.test('links resolve', async (t) => {
  let checked = 0;
  for (const page of pages) {
    const file = join(ROOT, page);
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path === '' ? file : join(dirname(file), path);
      checked++;
      t.ok(existsSync(resolved), `${page}: ${target} (${relative(ROOT, resolved)})`);
      if (anchor && existsSync(resolved) && resolved.endsWith('.md')) t.ok(anchors(resolved).has(anchor), `${page}: #${anchor} is a heading of ${relative(ROOT, resolved)}`);
    }
  }
  t.ok(checked >= 13, `${checked} links checked`);
});

t.test('the README stays a page', async (t) => {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
  t.ok(lines < 200, `${lines} lines`);
});
