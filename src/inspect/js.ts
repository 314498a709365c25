// Script injection shapes the markup detector (xss.ts) leaves to the
// anomaly score: JavaScript written without tags (JSFuck, bracket access
// on window objects, tagged-template calls, a sink call as the whole value),
// tags split or disguised (`<f o r m`, `< x: script`, UTF-7, `¼script¾`),
// and markup that loads or rebases active content (`<base href`, `<link href`,
// XInclude). Input: the markup view (decoded, lower-cased). Flat regexes.

import { CRITICAL, type Finding } from './types.js';

const JS_COMMENT = /\/\*[^*]{0,200}\*\//g;
const JSFUCK = /(?:!\[\]|\+\[\]|\[\]\)|\(\[\]|!!\[\]){3}|(?:[!+]\[\]){2}/;
const WINDOW_BRACKET = /\b(?:self|window|top|parent|this|globalthis|frames|document|content)\s*\[\s*(?:["'`]|\\x|\\u)/;
const TAGGED_CALL = /\.(?:call|apply|bind|map|sort|filter|reduce|find|some|every)\s*`|\$\{\s*(?:alert|eval|prompt|confirm|atob|function)\s*\}/;
const SINK_VALUE = /^\s*(?:alert|prompt|confirm|eval|atob|settimeout|setinterval|execscript|globalthis|function)\s*[(`]/;
const DOM_ACCESS = /\bdocument\s*\.\s*(?:domain|cookie|write|writeln|location|queryselector(?:all)?|getelementby[a-z]{2,8}|body|forms|images|links|scripts)\b|\b(?:window|top|self|parent)\s*\.\s*(?:location|name|opener|eval)\b|\.\s*(?:innerhtml|outerhtml|textcontent|insertadjacenthtml)\s*=/;
const SPLIT_TAG = /<\s*[a-z](?:\s+[a-z]){2,}\b|<\s*[a-z]{1,10}\s*:\s*(?:script|iframe|svg|img|object|embed)\b/;
const UTF7 = /\+adw-|\+ad4-/;
const HALF_TAG = /¼\/?[a-z]{1,20}¾/;
const ACTIVE_MARKUP = /<\s*base\b[^>]{0,200}\bhref|<\s*link\b[^>]{0,200}\bhref|<[^>]{0,30}import[^>]{0,30}implementation\s*=|\bxi:include\b|-moz-binding\s*:\s*url\s*\(|\bstyle\s*=[^>]{0,100}url\s*\(\s*["']?\s*(?:java|vb)script/;
const SCHEMA_LOCATION = /\bxsi:(?:no)?(?:namespace)?schemalocation\s*=\s*["'][^"']{0,200}https?:\/\//;

export function detectScript(markup: string): Finding[] {
  const out: Finding[] = [];
  const add = (rule: string, level: Finding['level']) => out.push({ rule, score: CRITICAL, level });
  const s = markup.indexOf('/*') >= 0 ? markup.replace(JS_COMMENT, '') : markup;
  if (s.indexOf('[]') >= 0 && JSFUCK.test(s)) add('js-jsfuck', 1);
  if (s.indexOf('[') >= 0 && WINDOW_BRACKET.test(s)) add('js-bracket-access', 1);
  if ((s.indexOf('`') >= 0 || s.indexOf('${') >= 0) && TAGGED_CALL.test(s)) add('js-tagged-call', 1);
  if (s.length < 200 && SINK_VALUE.test(s)) add('js-sink-value', 1);
  if (s.indexOf('.') >= 0 && DOM_ACCESS.test(s)) add('js-dom-access', 2);
  if (s.indexOf('<') >= 0) {
    if (SPLIT_TAG.test(s)) add('xss-split-tag', 1);
    if (ACTIVE_MARKUP.test(s)) add('xss-active-markup', 1);
  } else if (s.indexOf('url') >= 0 && ACTIVE_MARKUP.test(s)) add('xss-active-markup', 1);
  if (s.indexOf('+ad') >= 0 && UTF7.test(s)) add('xss-utf7', 1);
  if (s.indexOf('¼') >= 0 && HALF_TAG.test(s)) add('xss-half-width-tag', 1);
  if (s.indexOf('schemalocation') >= 0 && SCHEMA_LOCATION.test(s)) add('xml-external-schema', 2);
  return out;
}
