import t from 'tap';
import { unsafeRegexReason } from '../../src/validate/safe-regex.js';
import { validateConfig } from '../../src/config/load.js';

t.test('nested quantifiers and backreferences are refused; ordinary patterns pass', async (t) => {
  for (const bad of ['(a+)+$', '(a*)*', '(\\w+\\s?)*$', '((ab)*c)+', '(a|aa)+(b+)+', '(x+){2,}', '(.*a){12}x*(y+)+', '(a)\\1', '((a+))+', '(?:(?:a*))*']) {
    t.ok(unsafeRegexReason(bad), `refused: ${bad}`);
  }
  for (const ok of ['^[a-z]+$', '^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$', '^\\d{3}-\\d{2}-\\d{4}$', '^(foo|bar)$', '^([a-z]+)-[0-9]+$', '^(ab)?c+$', '[(a+)+]']) {
    t.equal(unsafeRegexReason(ok), null, `allowed: ${ok}`);
  }
});

t.test('a validate stage with a catastrophic schema pattern is refused at load', async (t) => {
  const cfg = (pattern: string) => ({
    listeners: [{ name: 'l', port: 1 }],
    upstreams: [{ name: 'u', targets: [{ url: 'http://127.0.0.1:2' }] }],
    routes: [{ name: 'r', match: { path: '/*' }, upstream: 'u', public: true, stages: [{ type: 'validate', schema: { type: 'object', properties: { name: { type: 'string', pattern } } } }] }],
  });
  t.throws(() => validateConfig(cfg('^(a+)+$'), '/'), { name: 'ConfigError', issues: [/routes\[0\]\.stages\[0\]\.schema: .*backtrack catastrophically/] });
  t.doesNotThrow(() => validateConfig(cfg('^[a-z]+$'), '/'));
});
