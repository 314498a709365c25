import t from 'tap';
import { htmlDecode, sqlView, stripNul, unescapeJs, urlDecode, urlDecodeOnce, views } from '../../src/inspect/normalize.js';

t.test('URL decoding: repeated up to 3 rounds, plus as space only when asked', async (t) => {
  t.equal(urlDecode('%2527', false), "'");
  t.equal(urlDecode('%252527', false), "'");
  t.equal(urlDecode('%25252527', false), '%27', 'stops after 3 rounds');
  t.equal(urlDecode('a+b', true), 'a b');
  t.equal(urlDecode('a+b', false), 'a+b');
  t.equal(urlDecode('%2B', true), '+', 'an encoded plus stays a plus');
  t.equal(urlDecode('100%', false), '100%', 'invalid escapes stay');
  t.equal(urlDecode('%zz%4', false), '%zz%4');
  t.equal(urlDecode('caf%C3%A9', false), 'café', 'UTF-8');
  t.equal(urlDecode('..%c0%af..%c0%afetc', false), '../../etc', 'overlong 2-byte');
  t.equal(urlDecode('..%e0%80%afetc', false), '../etc', 'overlong 3-byte');
  t.equal(urlDecode('%u003cscript', false), '<script', 'IIS %u');
  t.equal(urlDecodeOnce('%ff%41', false), '\u00ffA', 'invalid UTF-8 bytes map to Latin-1');
});

t.test('HTML entities', async (t) => {
  t.equal(htmlDecode('&lt;a&gt; &amp;&quot;&#39;&#x27;&apos;'), `<a> &"''\'`);
  t.equal(htmlDecode('&#0000106&#0000097'), 'ja', 'numeric without semicolon, leading zeros');
  t.equal(htmlDecode('&#x6A&#x61'), 'ja');
  t.equal(htmlDecode('javascript&colon;alert&lpar;1&rpar;'), 'javascript:alert(1)');
  t.equal(htmlDecode('AT&T and &unknown; &'), 'AT&T and &unknown; &', 'unknown names and bare & stay');
  t.equal(htmlDecode('&#99999999999999;'), '\ufffd', 'out of range is clamped');
});

t.test('JS / CSS / unicode escapes', async (t) => {
  t.equal(unescapeJs('\\x3cscript\\x3e'), '<script>');
  t.equal(unescapeJs('\\u0061lert'), 'alert');
  t.equal(unescapeJs('\\u{61}lert'), 'alert');
  t.equal(unescapeJs('\\3c img'), '<img', 'CSS escape eats one space');
  t.equal(unescapeJs('a\\qb'), 'a\\qb', 'unknown escapes stay');
});

t.test('NUL, SQL view, combined views', async (t) => {
  t.equal(stripNul('<scr\0ipt>'), '<script>');
  t.equal(sqlView('1/**/UNION/**/SELECT   2'), '1 UNION SELECT 2');
  t.equal(sqlView('/*!50000UNION*/ /*!SELECT*/ 1'), ' UNION SELECT 1');
  const v = views('%3CScRiPt%3E%26%2360%3B', 'query');
  t.equal(v.decoded, '<ScRiPt>&#60;');
  t.equal(v.markup, '<script><');
  t.equal(views('1%00UNION', 'query').sql, '1 UNION', 'NUL is whitespace for SQL');
});

t.test('output is never longer than input', async (t) => {
  const inputs = ['%25'.repeat(100), '&#x1F600;'.repeat(50), '\\u{1F600}'.repeat(50), '%F0%9F%98%80'.repeat(30), '&lt'.repeat(40)];
  for (const s of inputs) {
    const v = views(s, 'query');
    t.ok(v.decoded.length <= s.length && v.markup.length <= s.length, s.slice(0, 12));
  }
});
