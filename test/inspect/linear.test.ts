import t from 'tap';
import { measureGrowth, describeGrowth } from '../helpers/growth.js';
import { inspectValue, inspectJson, inspectForm } from '../../src/inspect/detect.js';
import { scanRequest } from '../../src/inspect/request-scan.js';

// Adversarial inputs of growing size: time must grow roughly linearly (see helpers/growth).
const gens: Record<string, (n: number) => string> = {
  quotes: (n) => "'".repeat(n),
  doubleQuotes: (n) => '"'.repeat(n),
  parens: (n) => '('.repeat(n),
  lt: (n) => '<'.repeat(n),
  ltSpaces: (n) => '<' + ' '.repeat(n),
  percent: (n) => '%25'.repeat(Math.floor(n / 3)),
  comments: (n) => '/*'.repeat(n / 2),
  dashComments: (n) => '--'.repeat(n / 2),
  keywords: (n) => 'union select '.repeat(Math.floor(n / 13)),
  tautologies: (n) => ' or 1=1'.repeat(Math.floor(n / 7)),
  entities: (n) => '&#'.repeat(n / 2),
  entityDigits: (n) => '&#' + '0'.repeat(n),
  escapes: (n) => '\\u'.repeat(n / 2),
  tags: (n) => '<a '.repeat(Math.floor(n / 3)),
  handlers: (n) => ' onx'.repeat(n / 4),
  dotdot: (n) => '../'.repeat(Math.floor(n / 3)),
  semicolons: (n) => ';'.repeat(n),
  crlf: (n) => '\r\n'.repeat(n / 2),
  semicolonSpaces: (n) => ';' + ' '.repeat(n),
  mixed: (n) => "'or(<a/onload=%27".repeat(Math.floor(n / 17)),
  braces: (n) => '{{'.repeat(n / 2),
  caseWhen: (n) => 'case when '.repeat(n / 10),
  subselects: (n) => '(select '.repeat(n / 8),
  hex: (n) => '0x' + 'f'.repeat(n),
  word: (n) => 'a'.repeat(n),
  backslashes: (n) => '\\'.repeat(n),
  // shapes aimed at individual patterns (a trailing non-matching char forces full backtracking)
  quoteBreakSpaces: (n) => "a' or '" + ' '.repeat(n) + '!',
  quoteBreakSpacesDq: (n) => 'a" or "' + ' '.repeat(n) + '!',
  headerNameSpaces: (n) => '\nab' + ' '.repeat(n) + '!',
  colonSpaces: (n) => 'a:' + ' '.repeat(n) + '!',
  quoteSpaces: (n) => "'" + ' '.repeat(n) + '!',
  scriptSpaces: (n) => 's' + ' '.repeat(n) + 'x',
  handlerSpaces: (n) => ' onload' + ' '.repeat(n) + '!',
  commentProse: (n) => '1 -- ' + 'ab '.repeat(Math.floor(n / 3)),
  execComments: (n) => '/*!'.repeat(Math.floor(n / 3)),
  unterminatedString: (n) => "x' or '" + 'a'.repeat(n),
  // shell tokenizer and code detectors
  shellWords: (n) => '; cat '.repeat(Math.floor(n / 6)),
  backticks: (n) => ' `'.repeat(n / 2),
  fences: (n) => '```'.repeat(Math.floor(n / 3)),
  pipes: (n) => '|ls -la /'.repeat(Math.floor(n / 9)),
  ifs: (n) => '${IFS}'.repeat(Math.floor(n / 6)),
  dollarParens: (n) => '$('.repeat(n / 2),
  templateOpen: (n) => '{{'.repeat(n / 4) + '}'.repeat(n / 2),
  lookup: (n) => '${'.repeat(n / 2),
  phpCalls: (n) => 'exec ('.repeat(Math.floor(n / 6)),
  phpVarCall: (n) => '$a[' .repeat(Math.floor(n / 3)),
  urls: (n) => 'http://a'.repeat(Math.floor(n / 8)),
  javaDots: (n) => 'java.'.repeat(Math.floor(n / 5)),
  cmdlets: (n) => 'get-x '.repeat(Math.floor(n / 6)),
  forkBomb: (n) => 'a(){ '.repeat(Math.floor(n / 5)),
  ldap: (n) => ')('.repeat(n / 2),
  nosql: (n) => '[$'.repeat(n / 2),
  jsfuck: (n) => '![]+'.repeat(Math.floor(n / 4)),
  jsComments: (n) => '/*'.repeat(n / 4) + '*/'.repeat(n / 4),
  splitTag: (n) => '< a'.repeat(Math.floor(n / 3)),
  baseHref: (n) => '<base '.repeat(Math.floor(n / 6)),
  ldapParens: (n) => ')('.repeat(Math.floor(n / 4)) + ' a'.repeat(Math.floor(n / 4)),
  ifCompare: (n) => 'if '.repeat(Math.floor(n / 6)) + '== '.repeat(Math.floor(n / 6)),
  globPath: (n) => '/etc/['.repeat(Math.floor(n / 6)),
  requestLine: (n) => 'get '.repeat(Math.floor(n / 4)) + 'http/',
  unixSocket: (n) => 'unix:' + 'a'.repeat(n),
  bareHost: (n) => 'localhost/' + 'a'.repeat(n) + ' x',
  multipartish: (n) => '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n'.repeat(Math.floor(n / 60)),
};

t.test('inspectValue time grows linearly on adversarial inputs', async (t) => {
  for (const [name, gen] of Object.entries(gens)) {
    const small = gen(10_000);
    const large = gen(80_000);
    const g = measureGrowth(() => inspectValue(small, 'query', 4), () => inspectValue(large, 'query', 4));
    t.ok(g.linear, describeGrowth(name, g));
  }
});

t.test('structured walkers are linear too', async (t) => {
  const json = (n: number) => JSON.stringify(Array.from({ length: n / 10 }, () => "'or 1=1"));
  const form = (n: number) => 'a=%27&'.repeat(n / 6);
  const parts = (n: number) => '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n;ls -la /\r\n'.repeat(Math.floor(n / 64)) + '--b--';
  for (const [name, fn] of [
    ['json', (n: number) => inspectJson(json(n))],
    ['form', (n: number) => inspectForm(form(n))],
    ['multipart', (n: number) => scanRequest({ level: 4, path: null, query: null, headers: [], cookies: [], body: parts(n), bodyKind: 'multipart', boundary: 'b' })],
  ] as const) {
    const g = measureGrowth(() => fn(10_000), () => fn(80_000));
    t.ok(g.linear, describeGrowth(name, g));
  }
});
