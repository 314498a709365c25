import t from 'tap';
import { inspectValue, THRESHOLDS } from '../../src/inspect/detect.js';
import { detectSqli, sqlFingerprint } from '../../src/inspect/sqli.js';

const hit = (v: string, level: 1 | 2 | 3 | 4 = 2) => inspectValue(v, 'query', level).score >= THRESHOLDS[level];

t.test('tokenizer fingerprints', async (t) => {
  t.equal(sqlFingerprint("1' or '1'='1", "'"), 's&s=s');
  t.equal(sqlFingerprint('-1 union select 1,2--'), 'onUEn,nc');
  t.equal(sqlFingerprint('sleep(5)'), 'f(n)');
  t.equal(sqlFingerprint('@@version'), 'v');
  t.equal(sqlFingerprint('0x41 /* c */ 1e3'), 'ncn');
});

t.test('detects SQL injection shapes', async (t) => {
  const attacks: Array<[string, string]> = [
    ["1' OR '1'='1", 'sqli-tautology'],
    ['1 or 1=1--', 'sqli-tautology'],
    ["admin'--", 'sqli-quote-comment'],
    ["admin'/*", 'sqli-quote-comment'],
    ['-1 UNION SELECT username, password FROM users--', 'sqli-union-select'],
    ['1/**/UNION/**/ALL/**/SELECT/**/NULL,NULL', 'sqli-union-select'],
    ['1 /*!50000UNION*/ /*!SELECT*/ 1,2', 'sqli-union-select'],
    ['%2527%2520union%2520select%25201%252C2--', 'sqli-union-select'],
    ["1'; DROP TABLE users--", 'sqli-stacked-query'],
    ['1; EXEC xp_cmdshell(\'dir\')', 'sqli-stacked-query'],
    ["1' AND SLEEP(5)#", 'sqli-blind-time'],
    ['1 AND BENCHMARK(5000000,MD5(1))', 'sqli-blind-time'],
    ["1'; WAITFOR DELAY '0:0:5'--", 'sqli-blind-time'],
    ["1' || pg_sleep(10)--", 'sqli-blind-time'],
    ['1 AND extractvalue(1,concat(0x7e,version()))', 'sqli-error-based'],
    ["1' ORDER BY 3--", 'sqli-order-by-probe'],
    ['1 AND (SELECT 1 FROM dual)=1', 'sqli-boolean-subquery'],
    ['(select id from users limit 1,1)', 'sqli-select-statement'],
    ["' AND '", 'sqli-quote-break-operator'],
    ['1 AND 1 NOT LIKE 0', 'sqli-tautology'],
    ['SELECT @@version', 'sqli-system-variable'],
    ['1 into outfile \'/tmp/x\'', 'sqli-into-outfile'],
    ["x' AND ascii(substring(database(),1,1))>64--", 'sqli-tautology'],
  ];
  for (const [v, rule] of attacks) {
    const r = inspectValue(v, 'query', 2);
    t.ok(r.score >= THRESHOLDS[2], `flagged: ${v} (${r.rules.join(',')})`);
    t.ok(r.rules.includes(rule), `${v} → ${rule} (${r.rules.join(',')})`);
  }
});

t.test('benign values that look SQL-ish pass', async (t) => {
  const benign = [
    "O'Brien",
    "Siobhan O'Brien, 12 O'Connell St",
    'select comfort pillow',
    'Union Jack flag',
    'the union select committee',
    'drop leaf table',
    'Please select a size from the list',
    'select all from the menu',
    'Rock & Roll',
    '2 OR 4 METAL BUTTONS',
    '1 AND 1/2" BUTTON',
    'DO OR NOT DO, THERE IS NO',
    'WHERE IS GEORGE',
    "I'M AFRAID SO. YOU'RE ENTIRELY BONKERS",
    '"ALASKA" + 1978',
    'Call when you get here, and we\'ll come down',
    'Is the sleep(5) in your retry example intentional?',
    'if (a == b && c != d) { return; }',
    "Would love a 'select all' checkbox",
    '5\' x 8\' area rug',
    'Unit 7/33 Drop Rd',
    'ORDER BY PRICE',
    '1,1--',
    "'1--'",
  ];
  for (const v of benign) {
    const r = inspectValue(v, 'query', 2);
    t.ok(r.score < THRESHOLDS[2], `not flagged: ${v} (${r.rules.join(',')})`);
  }
});

t.test('levels: quieter rules only at higher levels', async (t) => {
  t.notOk(hit('1 - ORD(\'A\')', 2));
  const f = detectSqli('concat(0x41)');
  t.ok(f.every((x) => x.level >= 3), 'a lone SQL function is a level-4 notice');
  t.ok(hit("1' OR '1'='1", 1), 'core tautology is on at level 1');
});
