// XSS detector. Works on the markup view (URL-decoded, HTML entities and
// JS/CSS escapes decoded, lower-cased). Every regex here is a flat pattern
// (no nested or adjacent overlapping quantifiers), so matching is linear.

import { stripControls } from './normalize.js';
import { CRITICAL, NOTICE, WARNING, type Finding } from './types.js';

/** Tags that run script or load active content. */
const DANGEROUS_TAG =
  /<\s*(?:\/\s*)?(?:[a-z]{1,10}:)?(script|iframe|frame|frameset|embed|applet|svg|meta|isindex|xss|ilayer|bgsound|vmlframe|portal|stylesheet)(?=[\s/>]|$)/;
/** Tag names that are also type names in code (`Promise<Object>`, `List<Set>`): only when not glued to a word. */
const DANGEROUS_TAG_WORDY =
  /(?<![\w$.`])<\s*(?:\/\s*)?(?:[a-z]{1,10}:)?(object|math|base|xml|import|layer|handler|listener|animate|set|style|template)(?=[\s/>]|$)/;
/** Tags that are fine in rich text but often carry payloads. */
const RISKY_TAG =
  /<\s*(style|link|form|button|input|textarea|select|keygen|video|audio|source|body|html|marquee|details|template|image|img|a|div|span|table|td|p|br|b|i|iframe|title|plaintext|xmp|noscript|head|x|[a-z][a-z0-9]*:[a-z]+)(?=[\s/>])/;

/** Known DOM event handler attribute names (without the `on`). */
const EVENTS = new Set(
  (
    'abort activate afterprint afterscriptexecute afterupdate animationend animationiteration animationstart auxclick ' +
    'beforeactivate beforecopy beforecut beforedeactivate beforeeditfocus beforepaste beforeprint beforescriptexecute ' +
    'beforeunload beforeupdate begin blur bounce canplay canplaythrough cellchange change click contextmenu controlselect copy ' +
    'cut dataavailable datasetchanged datasetcomplete dblclick deactivate drag dragdrop dragend dragenter dragleave dragover ' +
    'dragstart drop durationchange emptied end ended error errorupdate filterchange finish focus focusin focusout formchange ' +
    'forminput fullscreenchange hashchange help input invalid keydown keypress keyup layoutcomplete load loadeddata ' +
    'loadedmetadata loadend loadstart losecapture message mousedown mouseenter mouseleave mousemove mouseout mouseover mouseup ' +
    'mousewheel move moveend movestart offline online pagehide pageshow paste pause play playing pointerdown pointerenter ' +
    'pointerleave pointermove pointerout pointerover pointerup popstate progress propertychange ratechange readystatechange ' +
    'redo repeat reset resize rowenter rowexit rowsdelete rowsinserted scroll search seek seeked seeking select selectionchange ' +
    'selectstart show stalled start stop storage submit suspend timeout timeupdate toggle touchend touchmove touchstart ' +
    'transitionend undo unload volumechange waiting wheel zoom'
  ).split(' '),
);

// delimiter, "on", name, optional space, "="
const HANDLER = /(?:^|[\s"'`/;,+])on([a-z]{3,32})\s*=/g;
const SCRIPT_SCHEME = /(?:java|vb|live|j)script:/g;
const DATA_URI = /data:\s*(?:text\/html|text\/xml|text\/javascript|image\/svg\+xml|application\/(?:x-)?javascript|application\/xhtml|application\/xml|application\/x-shockwave-flash|application\/ecmascript)/;
const CSS_EXPR = /(?:[:=(]|^)\s*expression\s*\(|behaviou?r\s*:\s*url\s*\(|-moz-binding\s*:|@import\b/;
const ATTR_BREAK = /["'`]\s*\/?>\s*<\s*[a-z!/]/;
const JS_SINK =
  /\b(?:alert|prompt|confirm|eval|settimeout|setinterval|execscript|msgbox)\s*[(`]|\bstring\.fromcharcode\b|\bdocument\s*\.\s*(?:cookie|write|domain|location)\b|\.innerhtml\b|\b(?:window|top|self|parent)\s*\.\s*location\b|\bconstructor\s*\.\s*constructor\b|\bfromcharcode\s*\(/;
/** Breaking out of a JS string: quote, operator/semicolon, sink call. */
const JS_BREAKOUT = /["'`]\s*[;+\-*|&,)}\]]\s*(?:alert|prompt|confirm|eval|settimeout|setinterval|fetch|import)\s*[(`]/;
const TAG_WITH_ATTR = /<[a-z][a-z0-9:-]{0,20}[\s/][^<>]{0,200}=/;
const TEMPLATE = /\{\{[^{}]{0,150}(?:constructor|\$eval|\$on|\$emit|alert|\bon[a-z]+\b)[^{}]{0,150}\}\}/;
/** XML/legacy-IE vectors: entities, processing instructions, data binding, XML events. */
const XML_VECTOR =
  /<!entity\b|<!doctype[^>]{0,200}\[|<\?xml[-:](?:stylesheet|namespace)|<svg:[a-z]|<\?import\b|\bdata(?:src|fld|formatas)\s*=|\bev:(?:event|handler)\s*=|\bxmlns:ev\s*=|<link\b[^>]{0,200}\brel\s*=\s*["']?(?:stylesheet|import)|\bbinding\s*:\s*url\s*\(/;

export function detectXss(markup: string): Finding[] {
  const out: Finding[] = [];
  const add = (rule: string, score: number, level: Finding['level']) => out.push({ rule, score, level });
  if (markup.length === 0) return out;

  const compact = stripControls(markup);
  const hasLt = compact.indexOf('<') >= 0;

  if (hasLt) {
    const m = DANGEROUS_TAG.exec(compact) ?? DANGEROUS_TAG_WORDY.exec(compact);
    if (m) add(m[1] === 'script' ? 'xss-script-tag' : 'xss-dangerous-tag', CRITICAL, 1);
  }

  // event handlers
  HANDLER.lastIndex = 0;
  for (let m = HANDLER.exec(compact); m; m = HANDLER.exec(compact)) {
    const name = m[1];
    if (EVENTS.has(name)) {
      add('xss-event-handler', CRITICAL, 1);
      break;
    }
    if (hasLt && compact.lastIndexOf('<', m.index) >= 0) {
      add('xss-event-handler', CRITICAL, 2);
      break;
    }
    add('xss-event-handler-unknown', WARNING, 3);
  }
  // `<svg/onload` etc. without the event list: tag followed directly by on...=
  // (covered above since '/' is a delimiter)

  // javascript: / vbscript: URLs (controls already stripped; allow spaces removed too)
  const noSpace = compact.indexOf(':') >= 0 && /s\s*c\s*r\s*i\s*p\s*t/.test(compact) ? compact.replace(/\s+/g, '') : '';
  if (noSpace) {
    SCRIPT_SCHEME.lastIndex = 0;
    for (let m = SCRIPT_SCHEME.exec(noSpace); m; m = SCRIPT_SCHEME.exec(noSpace)) {
      const before = m.index > 0 ? noSpace.charCodeAt(m.index - 1) : 0;
      const after = noSpace.charCodeAt(m.index + m[0].length);
      // "jscript" only counts when clearly a scheme in an attribute
      if (m[0] === 'jscript:' && before !== 61 && before !== 34 && before !== 39) continue;
      // In the uncompacted text the scheme should be directly followed by code (not prose "javascript: foo").
      if (Number.isNaN(after)) continue;
      const isAttr = before === 61 || before === 34 || before === 39 || before === 96 || before === 40 || before === 0 || before === 62 || before === 58;
      const spaced = new RegExp('(?:java|vb|live|j)\\s*s\\s*c\\s*r\\s*i\\s*p\\s*t\\s*:\\s').test(compact) && !isAttr;
      if (isAttr || !spaced) {
        add('xss-script-uri', CRITICAL, 1);
        break;
      }
    }
  }
  if (DATA_URI.test(compact)) add('xss-data-uri', CRITICAL, 1);
  if (XML_VECTOR.test(compact)) add('xss-xml-vector', CRITICAL, 2);
  if (CSS_EXPR.test(compact)) add('xss-css-expression', CRITICAL, 2);
  if (hasLt && ATTR_BREAK.test(compact)) add('xss-attribute-break', WARNING, 2);

  const sink = JS_SINK.test(compact);
  if (sink) add('xss-js-sink', WARNING, 2);
  if (sink && JS_BREAKOUT.test(compact)) add('xss-js-string-breakout', CRITICAL, 2);
  if (hasLt) {
    const tag = RISKY_TAG.exec(compact);
    if (tag && sink) add('xss-tag-with-script', NOTICE, 2);
    else if (tag && TAG_WITH_ATTR.test(compact)) add('xss-tag-with-attribute', NOTICE, 3);
    else if (tag) add('xss-risky-tag', NOTICE, 3);
  }
  if (compact.indexOf('{{') >= 0 && TEMPLATE.test(compact)) add('xss-template-injection', CRITICAL, 2);
  if (compact.indexOf('<!--') >= 0 && hasLt && /<!--[^>]{0,200}<\s*[a-z]/.test(compact)) add('xss-comment-smuggle', NOTICE, 3);
  return out;
}
