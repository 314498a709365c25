// SQL injection detector: a small SQL tokenizer (in the spirit of libinjection)
// whose token-type sequence is checked for injection shapes. The input is
// tokenized as it is, and — when it contains a quote — as if it started inside
// a string literal of that quote type (the value was pasted into '...' or "...").
//
// Tokenizing is one pass over the input; every rule below is a forward scan
// over the token array with bounded look-ahead, so the whole is linear.

import { CRITICAL, ERROR, NOTICE, WARNING, type Finding } from './types.js';

/** Token types. */
const enum T {
  Str = 's', // string literal
  Num = 'n', // number, also NULL/TRUE/FALSE
  Var = 'v', // @var, @@var
  Word = 'b', // bareword / identifier
  Func = 'f', // identifier directly followed by '('
  Kw = 'k', // SQL keyword
  Union = 'U',
  Stmt = 'E', // statement keyword (SELECT, INSERT, DROP, ...)
  Logic = '&', // AND OR XOR && ||
  Cmp = '=', // = <> != < > <= >= <=> LIKE RLIKE REGEXP IS IN BETWEEN SOUNDS
  Op = 'o', // arithmetic/bitwise/unary operators, NOT, BINARY, COLLATE, DIV, MOD
  LParen = '(',
  RParen = ')',
  Comma = ',',
  Semi = ';',
  Dot = '.',
  Other = '?',
}

interface Tok {
  t: T;
  /** Lower-cased text for words/keywords/operators; string body for strings. */
  v: string;
  /** For strings: the quote character; for the context string: also `ctx`. */
  q?: string;
  /** String reached the end of input without its closing quote. */
  open?: boolean;
  /** The first string when tokenizing in a quote context (closes the app's quote). */
  ctx?: boolean;
  /** A comment follows this token. */
  comment?: 'dash' | 'hash' | 'block' | 'blockopen';
  /** For comments: whether there is any non-space content. */
  commentText?: boolean;
  /** For comments: the content reads like prose (two words separated by a space). */
  commentProse?: boolean;
}

const KEYWORDS: Record<string, T> = Object.create(null);
function kw(type: T, words: string): void {
  for (const w of words.split(/\s+/)) if (w) KEYWORDS[w] = type;
}
kw(T.Union, 'union intersect except minus');
kw(
  T.Stmt,
  'select insert update delete drop exec execute declare create alter truncate shutdown waitfor replace merge grant revoke rename load handler call set begin',
);
kw(T.Logic, 'and or xor');
kw(T.Cmp, 'like rlike regexp is in between sounds glob similar');
kw(T.Op, 'not div mod binary collate escape');
kw(T.Num, 'null true false unknown');
kw(
  T.Kw,
  'from where limit offset order group by having into outfile dumpfile as all distinct top values table database procedure ' +
    'case when then else end asc desc join inner outer left right cross natural using delay time for fetch rows only ' +
    'view index trigger login with nolock procedure analyse identity',
);

/** Functions that (almost) only ever appear in SQL. */
const SQL_FUNCS = new Set(
  (
    'concat concat_ws group_concat char chr ascii substring substr mid version database user current_user system_user ' +
    'session_user schema load_file extractvalue updatexml cast convert hex unhex ifnull isnull coalesce nullif rand floor ' +
    'length len lpad rpad md5 sha1 ord elt make_set name_const randomblob count exists if iif left right instr locate position ' +
    'sleep benchmark pg_sleep waitfor dbms_pipe.receive_message dbms_lock.sleep utl_inaddr.get_host_address ' +
    'utl_http.request db_name user_name suser_name host_name serverproperty object_id col_name table_name xp_cmdshell ' +
    'sqlite_version lower upper reverse replace repeat space cos sin pi exp abs ltrim rtrim trim str bin oct conv ' +
    'sys_context dbms_utility.sqlid_to_sqlhash to_char to_number nvl decode bitand utc_date now sysdate getdate'
  ).split(/\s+/),
);

/** Time/heavy-query blind injection functions. */
const BLIND_FUNCS = new Set(
  'sleep benchmark pg_sleep randomblob dbms_lock.sleep dbms_pipe.receive_message get_lock'.split(' '),
);

/** Error-based extraction functions. */
const ERROR_FUNCS = new Set('extractvalue updatexml name_const utl_inaddr.get_host_address'.split(' '));

/** Identifiers that name DBMS internals. */
const SENSITIVE_WORDS = [
  'information_schema',
  'mysql.user',
  'sysobjects',
  'syscolumns',
  'sys.tables',
  'sys.objects',
  'master..',
  'xp_cmdshell',
  'sp_executesql',
  'sp_password',
  'pg_catalog',
  'pg_shadow',
  'pg_user',
  'all_tables',
  'user_tables',
  'all_users',
  'sqlite_master',
  'msysobjects',
  'load_file',
  'utl_http',
  'utl_inaddr',
  'dbms_pipe',
  'pg_read_file',
];

const isDigit = (c: number) => c >= 48 && c <= 57;
const hexVal = (c: number) => (isDigit(c) ? c - 48 : (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : -1);
const isIdentStart = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c > 127;
const isIdent = (c: number) => isIdentStart(c) || isDigit(c) || c === 46;
const isSpace = (c: number) => c <= 32 || c === 0xa0;

const MAX_TOKENS = 4096;

/** Tokenize `s`. When `ctx` is a quote character, `s` is taken to start inside a string of that quote. */
function tokenize(s: string, ctx: string | null): Tok[] {
  const toks: Tok[] = [];
  const n = s.length;
  let i = 0;
  const push = (t: Tok) => {
    toks.push(t);
  };
  const markComment = (kind: Tok['comment'], text: boolean, from = 0, to = 0) => {
    const last = toks[toks.length - 1];
    if (last) {
      if (!last.comment) {
        last.comment = kind;
        last.commentText = text;
        last.commentProse = text && to - from < 4096 && /[a-z]{2}\s+[a-z]{2}/i.test(s.slice(from, to));
      }
    } else {
      // leading comment: record as a pseudo token on an empty marker
      push({ t: T.Other, v: '', comment: kind, commentText: text });
    }
  };
  const readString = (q: number, from: number, isCtx: boolean) => {
    // from = index after the opening quote
    let j = from;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 92 /* \ */) {
        j += 2;
        continue;
      }
      if (c === q) {
        if (j + 1 < n && s.charCodeAt(j + 1) === q) {
          j += 2;
          continue;
        }
        break;
      }
      j++;
    }
    const open = j >= n;
    push({ t: T.Str, v: s.slice(from, Math.min(j, n)), q: String.fromCharCode(q), open, ctx: isCtx });
    return open ? n : j + 1;
  };

  if (ctx) i = readString(ctx.charCodeAt(0), 0, true);

  while (i < n && toks.length < MAX_TOKENS) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // comments
    if (c === 45 /* - */ && i + 1 < n && s.charCodeAt(i + 1) === 45) {
      let j = i + 2;
      let text = false;
      while (j < n && s.charCodeAt(j) !== 10) {
        if (!isSpace(s.charCodeAt(j))) text = true;
        j++;
      }
      markComment('dash', text, i + 2, j);
      i = j;
      continue;
    }
    if (c === 35 /* # */) {
      let j = i + 1;
      let text = false;
      while (j < n && s.charCodeAt(j) !== 10) {
        if (!isSpace(s.charCodeAt(j))) text = true;
        j++;
      }
      markComment('hash', text);
      i = j;
      continue;
    }
    if (c === 47 /* / */ && i + 1 < n && s.charCodeAt(i + 1) === 42 /* * */) {
      if (i + 2 < n && s.charCodeAt(i + 2) === 33 /* ! */) {
        // MySQL executable comment: its content is code
        let j = i + 3;
        while (j < n && isDigit(s.charCodeAt(j))) j++;
        markComment('block', true);
        const last = toks[toks.length - 1];
        if (last) last.comment = undefined;
        execComment = true;
        i = j;
        continue;
      }
      const close = s.indexOf('*/', i + 2);
      const end = close < 0 ? n : close;
      let text = false;
      for (let j = i + 2; j < end; j++) {
        if (!isSpace(s.charCodeAt(j))) {
          text = true;
          break;
        }
      }
      markComment(close < 0 ? 'blockopen' : 'block', text);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (c === 42 /* * */ && i + 1 < n && s.charCodeAt(i + 1) === 47) {
      i += 2; // end of an executable comment
      continue;
    }
    if (c === 39 || c === 34) {
      i = readString(c, i + 1, false);
      continue;
    }
    if (c === 92 /* \ */ && i + 1 < n && s.charCodeAt(i + 1) === 78 /* N */) {
      push({ t: T.Num, v: 'null' });
      i += 2;
      continue;
    }
    if (c === 96 /* ` */) {
      const close = s.indexOf('`', i + 1);
      const end = close < 0 ? n : close;
      push({ t: T.Word, v: s.slice(i + 1, end).toLowerCase() });
      i = close < 0 ? n : close + 1;
      continue;
    }
    if (c === 64 /* @ */) {
      let j = i + 1;
      if (j < n && s.charCodeAt(j) === 64) j++;
      while (j < n && isIdent(s.charCodeAt(j))) j++;
      push({ t: T.Var, v: s.slice(i, j).toLowerCase() });
      i = j;
      continue;
    }
    if (isDigit(c) || (c === 46 && i + 1 < n && isDigit(s.charCodeAt(i + 1)))) {
      let j = i;
      if (c === 48 && i + 1 < n && (s.charCodeAt(i + 1) | 32) === 120) {
        j = i + 2;
        while (j < n && hexVal(s.charCodeAt(j)) >= 0) j++;
      } else if (c === 48 && i + 1 < n && (s.charCodeAt(i + 1) | 32) === 98 && i + 2 < n && (s[i + 2] === '0' || s[i + 2] === '1')) {
        j = i + 2;
        while (j < n && (s[j] === '0' || s[j] === '1')) j++;
      } else {
        while (j < n && isDigit(s.charCodeAt(j))) j++;
        if (j < n && s.charCodeAt(j) === 46) {
          j++;
          while (j < n && isDigit(s.charCodeAt(j))) j++;
        }
        if (j + 1 < n && (s.charCodeAt(j) | 32) === 101 && (isDigit(s.charCodeAt(j + 1)) || ((s[j + 1] === '-' || s[j + 1] === '+') && j + 2 < n && isDigit(s.charCodeAt(j + 2))))) {
          j += 2;
          while (j < n && isDigit(s.charCodeAt(j))) j++;
        }
      }
      push({ t: T.Num, v: s.slice(i, j) });
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdent(s.charCodeAt(j))) j++;
      let word = s.slice(i, j).toLowerCase();
      // trailing dots belong to punctuation
      while (word.endsWith('.') && word.length > 1) {
        word = word.slice(0, -1);
        j--;
      }
      // a function call: next non-space char is '('
      let k = j;
      while (k < n && isSpace(s.charCodeAt(k))) k++;
      const call = k < n && s.charCodeAt(k) === 40;
      let type: T | undefined = KEYWORDS[word];
      if (call && (type === undefined || type === T.Kw || type === T.Cmp || type === T.Stmt || SQL_FUNCS.has(word))) {
        if (type === undefined || SQL_FUNCS.has(word) || type === T.Kw) type = T.Func;
      }
      if (type === undefined) type = T.Word;
      push({ t: type, v: word });
      i = j;
      continue;
    }
    // punctuation and operators
    const c2 = i + 1 < n ? s.charCodeAt(i + 1) : 0;
    // only operator characters can start a multi-character operator
    const multi = c2 === 61 || c2 === 62 || c2 === 60 || c2 === 38 || c2 === 124 || c2 === 58;
    const two = multi ? s.slice(i, i + 2) : '';
    const three = multi && c === 60 ? s.slice(i, i + 3) : '';
    if (three === '<=>') {
      push({ t: T.Cmp, v: three });
      i += 3;
      continue;
    }
    if (two === '&&' || two === '||') {
      push({ t: T.Logic, v: two });
      i += 2;
      continue;
    }
    if (two === '<=' || two === '>=' || two === '<>' || two === '!=' || two === '==' || two === '^=' || two === '!<' || two === '!>') {
      push({ t: T.Cmp, v: two });
      i += 2;
      continue;
    }
    if (two === '<<' || two === '>>' || two === '::' || two === ':=') {
      push({ t: T.Op, v: two });
      i += 2;
      continue;
    }
    switch (c) {
      case 61: // =
      case 60: // <
      case 62: // >
        push({ t: T.Cmp, v: s[i] });
        break;
      case 40:
        push({ t: T.LParen, v: '(' });
        break;
      case 41:
        push({ t: T.RParen, v: ')' });
        break;
      case 44:
        push({ t: T.Comma, v: ',' });
        break;
      case 59:
        push({ t: T.Semi, v: ';' });
        break;
      case 46:
        push({ t: T.Dot, v: '.' });
        break;
      case 43: // +
      case 45: // -
      case 42: // *
      case 47: // /
      case 37: // %
      case 38: // &
      case 124: // |
      case 94: // ^
      case 126: // ~
      case 33: // !
        push({ t: T.Op, v: s[i] });
        break;
      default:
        push({ t: T.Other, v: s[i] });
    }
    i++;
  }
  return toks;
}

// `execComment` is set by the tokenizer when a MySQL `/*!` comment is seen.
let execComment = false;

const VALUE = new Set<T>([T.Num, T.Str, T.Var, T.Word, T.Func]);

function isStrongValue(t: Tok | undefined): boolean {
  return !!t && (t.t === T.Num || t.t === T.Str || t.t === T.Var || t.t === T.Func || t.t === T.LParen);
}

/** Does the SELECT at index j look like SQL rather than English ("union select committee")? */
function selectLooksSql(toks: Tok[], j: number): boolean {
  let k = j + 1;
  while (k < toks.length && toks[k].t === T.Kw && (toks[k].v === 'all' || toks[k].v === 'distinct' || toks[k].v === 'top')) k++;
  const a = toks[k];
  if (!a) return true;
  if (k > j + 1 && a.t === T.Kw && a.v === 'from') return false; // "select all from the menu"
  if (a.t === T.Num || a.t === T.Str || a.t === T.Var || a.t === T.Func || a.t === T.LParen) return true;
  if (a.t === T.Op && (a.v === '*' || a.v === '-' || a.v === '+' || a.v === '~' || a.v === 'binary' || a.v === 'not')) return true;
  if (a.t === T.Kw && a.v === 'from') return true;
  if (a.t === T.Other && a.v === '') return true;
  if (a.comment) return true;
  if (a.t === T.Word || a.t === T.Kw) {
    const b = toks[k + 1];
    if (!b) return !!a.comment;
    if (b.t === T.Comma || b.t === T.Semi || b.t === T.RParen || b.t === T.Op || b.t === T.Cmp || b.t === T.Dot) return true;
    if (b.t === T.Kw && (b.v === 'from' || b.v === 'as' || b.v === 'into' || b.v === 'limit' || b.v === 'where')) return true;
  }
  return false;
}

/**
 * A boolean clause after AND/OR/HAVING/WHERE: up to the next logic operator, a comparison
 * between expression-ish tokens without two words in a row (which would be prose).
 */
function comparisonClause(toks: Tok[], from: number): 0 | 1 | 2 {
  let literals = 0;
  let words = 0;
  const verdict = (ok: boolean): 0 | 1 | 2 => (!ok ? 0 : literals > 0 ? 2 : 1);
  let sawCmp = false;
  let sawOperandAfterCmp = false;
  let prevValue = false;
  let lastCmp = '';
  let depth = 0;
  const end = Math.min(toks.length, from + 24);
  let k = from;
  for (; k < end; k++) {
    const t = toks[k];
    if (t.t === T.Logic && depth <= 0) break;
    if (t.t === T.Semi || t.t === T.Union || t.t === T.Other) break;
    if (t.t === T.Kw && (t.v === 'from' || t.v === 'limit' || t.v === 'order' || t.v === 'group' || t.v === 'into')) break;
    if (t.t === T.Stmt && t.v === 'select') {
      // subquery inside the clause counts as an operand
      if (sawCmp) sawOperandAfterCmp = true;
      prevValue = true;
      literals++;
      break;
    }
    const isVal = VALUE.has(t.t);
    if (isVal) {
      if (prevValue) return 0; // two operands in a row: prose
      if (t.t === T.Word || (t.t === T.Func && !SQL_FUNCS.has(t.v))) words++;
      else literals++;
      if (lastCmp === 'is' && t.t !== T.Num) return 0; // IS NULL/TRUE/FALSE only
      if (lastCmp === 'in') return 0; // IN needs a parenthesized list
      prevValue = true;
      if (sawCmp) sawOperandAfterCmp = true;
    } else if (t.t === T.Cmp) {
      if (!prevValue && !sawCmp) return 0; // needs a left operand
      sawCmp = true;
      lastCmp = t.v;
      prevValue = false;
    } else if (t.t === T.Op && t.v === 'not' && k + 1 < end && toks[k + 1].t === T.Cmp) {
      // NOT LIKE / NOT BETWEEN / NOT IN: part of the comparison
    } else if (t.t === T.Op) {
      prevValue = false;
    } else if (t.t === T.Comma) {
      if (depth <= 0) break;
      prevValue = false;
    } else if (t.t === T.LParen) {
      depth++;
      prevValue = false;
    } else if (t.t === T.RParen) {
      depth--;
      prevValue = true;
    } else if (t.t === T.Kw) {
      if (t.v === 'case' || t.v === 'when' || t.v === 'then' || t.v === 'else' || t.v === 'end') {
        prevValue = false;
        continue;
      }
      return verdict(sawCmp && sawOperandAfterCmp);
    } else {
      return 0;
    }
    if (t.comment && sawCmp && sawOperandAfterCmp) return verdict(true);
  }
  return verdict(sawCmp && sawOperandAfterCmp);
}

function scanTokens(toks: Tok[], ctx: string | null, out: Map<string, Finding>): void {
  // In a quote context, a first string with spaces in it is prose more often than a value being broken out of.
  const proseCtx = !!ctx && toks.length > 0 && /\S\s+\S/.test(toks[0].v);
  const add = (rule: string, score: number, level0: Finding['level']) => {
    const level = (proseCtx && level0 >= 2 && ctxRule(rule) ? 3 : level0) as Finding['level'];
    const prev = out.get(rule);
    if (!prev || prev.level > level || (prev.level === level && prev.score < score)) out.set(rule, { rule, score, level });
  };
  const n = toks.length;
  for (let i = 0; i < n; i++) {
    const t = toks[i];
    const next = toks[i + 1];
    const prev = i > 0 ? toks[i - 1] : undefined;

    // UNION [ALL|DISTINCT] [(] SELECT
    if (t.t === T.Union) {
      let j = i + 1;
      while (j < n && (toks[j].t === T.LParen || (toks[j].t === T.Kw && (toks[j].v === 'all' || toks[j].v === 'distinct')))) j++;
      if (j < n && toks[j].t === T.Stmt && toks[j].v === 'select' && (t.v === 'union' || j > i + 1 || selectLooksSql(toks, j))) {
        const weak = proseCtx && toks[j + 1] && toks[j + 1].t === T.Str;
        if (weak) add('sqli-union-select-prose', WARNING, 3);
        else if (selectLooksSql(toks, j) || (prev && (prev.t === T.Num || prev.t === T.RParen || prev.comment || (prev.t === T.Str && prev.ctx))) || t.comment) add('sqli-union-select', CRITICAL, 1);
        else add('sqli-union-select-prose', WARNING, 3);
      }
    }

    // stacked queries: ; STATEMENT ...
    if (t.t === T.Semi && next && (next.t === T.Stmt || (next.t === T.Func && next.v === 'if'))) {
      if (stackedLooksSql(toks, i + 1)) add('sqli-stacked-query', CRITICAL, 1);
    }
    if (t.t === T.Semi && next) {
      const a = toks[i + 2];
      const b = toks[i + 3];
      // ;IF 1=1 ...  ;WHILE 1=1 ...
      if (next.t === T.Word && (next.v === 'if' || next.v === 'while') && a && (a.t === T.Num || a.t === T.Str || a.t === T.Var || a.t === T.LParen) && b && b.t === T.Cmp) add('sqli-stacked-query', CRITICAL, 1);
      // ;CALL p(...)  ;DO (1=1)
      if (next.t === T.Func && (next.v === 'call' || next.v === 'do') && prev && (prev.t === T.Num || prev.t === T.Str)) add('sqli-stacked-query', CRITICAL, 2);
      if (next.v === 'call' && a && a.t === T.Func) add('sqli-stacked-query', CRITICAL, 2);
    }
    // EXEC sp_... / EXEC(@x) / DECLARE @x at the very start
    if (t.t === T.Stmt && (i === 0 || (i === 1 && toks[0].t === T.Other && toks[0].v === '')) && (t.v === 'exec' || t.v === 'execute' || t.v === 'declare' || t.v === 'waitfor') && stackedLooksSql(toks, i)) {
      add('sqli-statement', CRITICAL, 2);
    }
    if ((t.t === T.Stmt || t.t === T.Func) && (t.v === 'exec' || t.v === 'execute') && next && next.t === T.LParen && toks[i + 2] && toks[i + 2].t === T.Var) add('sqli-statement', CRITICAL, 2);
    // statements without ';' after a value (MSSQL accepts that): 21 update t set ...
    if (
      t.t === T.Stmt &&
      ['update', 'insert', 'delete', 'drop', 'exec', 'execute', 'declare', 'create', 'alter', 'truncate'].includes(t.v) &&
      prev &&
      (prev.t === T.Num || (prev.t === T.Str && prev.ctx && !/\s/.test(prev.v))) &&
      stackedLooksSql(toks, i, true)
    )
      add('sqli-stacked-query', CRITICAL, 2);
    // HAVING (1 OR 1)  WHERE (1 OR TRUE)
    if (t.t === T.Kw && (t.v === 'having' || t.v === 'where') && next && next.t === T.LParen) {
      const a = toks[i + 2];
      const b = toks[i + 3];
      const c = toks[i + 4];
      const d = toks[i + 5];
      if (a && b && c && d && a.t === T.Num && b.t === T.Logic && c.t === T.Num && d.t === T.RParen) add('sqli-tautology', CRITICAL, 2);
    }
    // 1) FROM users WHERE ...
    if (t.t === T.RParen && next && next.t === T.Kw && next.v === 'from' && toks[i + 2] && toks[i + 2].t === T.Word && toks[i + 3] && toks[i + 3].v === 'where') add('sqli-clause-break', CRITICAL, 2);
    // CASE [x] WHEN ... THEN ... END
    if (t.t === T.Kw && t.v === 'case') {
      let stage = 0;
      for (let k = i + 1; k < n && k < i + 24 && stage < 3; k++) {
        const v = toks[k].v;
        if (toks[k].t !== T.Kw) continue;
        if (stage === 0 && v === 'when') stage = 1;
        else if (stage === 1 && v === 'then') stage = 2;
        else if (stage === 2 && v === 'end') stage = 3;
      }
      if (stage === 3) add('sqli-case-expression', CRITICAL, 2);
    }
    // statement right after the app's string is closed: '; or ' DROP ...
    if (t.t === T.Stmt && i === 1 && toks[0].ctx && toks[0].v.length > 0 && !/\s/.test(toks[0].v) && t.v !== 'set' && stackedLooksSql(toks, i)) add('sqli-stacked-query', CRITICAL, 1);

    // time-based / heavy-query blind
    if (t.t === T.Func && BLIND_FUNCS.has(t.v) && next && next.t === T.LParen) {
      const a = toks[i + 2];
      const ctxOk = !prev || prev.t === T.Logic || prev.t === T.Op || prev.t === T.Cmp || prev.t === T.LParen || prev.t === T.Comma || prev.t === T.Semi || prev.t === T.Stmt || prev.t === T.Kw || (prev.t === T.Str && prev.ctx) || (prev.t === T.Other && prev.v === '');
      if (a && ctxOk && (isStrongValue(a) || a.t === T.Op || a.t === T.Word)) add('sqli-blind-time', CRITICAL, 1);
    }
    if (t.v === 'waitfor' && next && (next.v === 'delay' || next.v === 'time') && toks[i + 2] && (toks[i + 2].t === T.Str || toks[i + 2].t === T.Var)) {
      add('sqli-blind-time', CRITICAL, 1);
    }
    // error-based extraction
    if (t.t === T.Func && ERROR_FUNCS.has(t.v) && next && next.t === T.LParen) add('sqli-error-based', CRITICAL, 1);

    // DBMS internals
    if (t.t === T.Word || t.t === T.Func || t.t === T.Var) {
      if (t.t === T.Var && t.v.startsWith('@@')) add('sqli-system-variable', CRITICAL, 2);
      const v = t.v;
      if (v.length >= 7 && (v.indexOf('_') >= 0 || v.indexOf('.') >= 0 || v.startsWith('sys') || v.startsWith('msys')))
      for (const w of SENSITIVE_WORDS) {
        if (t.v.indexOf(w) >= 0) {
          add('sqli-dbms-internals', CRITICAL, 2);
          break;
        }
      }
    }
    if (t.t === T.Kw && t.v === 'into' && next && (next.v === 'outfile' || next.v === 'dumpfile')) add('sqli-into-outfile', CRITICAL, 1);

    // tautologies and boolean conditions: AND/OR <cmp-clause>
    if (t.t === T.Logic || (t.t === T.Kw && (t.v === 'having' || t.v === 'where'))) {
      const leftOk =
        !prev || VALUE.has(prev.t) || prev.t === T.RParen || prev.t === T.Other;
      const firstLit = t.t === T.Logic || (next && (next.t === T.Num || next.t === T.Str || next.t === T.Var || next.t === T.LParen || (next.t === T.Func && SQL_FUNCS.has(next.v))));
      const clause = leftOk && firstLit ? comparisonClause(toks, i + 1) : 0;
      // "price<50 and rating>4": a column name compared with a value reads like a filter
      // expression; it counts only after a broken-out quote or when a comment truncates it.
      let wordLeft = false;
      if (clause === 2) {
        let j = i + 1;
        while (j < n && toks[j].t === T.Op) j++;
        const l = toks[j];
        const c = toks[j + 1];
        if (l && l.t === T.Func && !SQL_FUNCS.has(l.v)) {
          // skip over a non-SQL call: uuidVersion(x) === 4
          let depth = 0;
          let k = j + 1;
          for (; k < n && k < j + 32; k++) {
            if (toks[k].t === T.LParen) depth++;
            else if (toks[k].t === T.RParen && --depth <= 0) break;
          }
          const c2 = toks[k + 1];
          wordLeft = !!c2 && c2.t === T.Cmp;
        } else wordLeft = !!l && l.t === T.Word && !!c && (c.t === T.Cmp || (c.t === T.Op && c.v === 'not'));
        if (wordLeft) {
          const brokeOut = !!prev && prev.t === T.Str && !!prev.ctx && !/\s/.test(prev.v);
          let commented = false;
          for (let k = j; k < n && k < j + 24 && !commented; k++) if (toks[k].comment && toks[k].comment !== 'hash') commented = true;
          if (brokeOut || commented) wordLeft = false;
        }
      }
      if (clause === 2 && wordLeft) {
        add('sqli-tautology-column', WARNING, 3);
      } else if (clause === 2) {
        add('sqli-tautology', CRITICAL, 1);
      } else if (clause === 1) {
        add('sqli-tautology-words', WARNING, 3);
      } else if (t.t === T.Logic && leftOk && next) {
        // AND/OR <value> followed by a comment or the app's closing quote
        let j = i + 1;
        while (j < n && toks[j].t === T.Op && (toks[j].v === '-' || toks[j].v === '+' || toks[j].v === '!' || toks[j].v === '~' || toks[j].v === 'not')) j++;
        const v = toks[j];
        if (v && (v.t === T.Num || v.t === T.Var || v.t === T.Str) && (v.comment || (v.t === T.Str && v.open && ctx === v.q && /^[\w.-]{0,8}$/.test(v.v)))) {
          if (!v.open || (toks[0].ctx && ctx === "'")) add('sqli-boolean-truncated', CRITICAL, 2);
        }
        if (v && v.t === T.LParen) {
          const w = toks[j + 1];
          if (w && w.t === T.Stmt && w.v === 'select' && selectLooksSql(toks, j + 1)) add('sqli-boolean-subquery', CRITICAL, 1);
        }
        if (v && v.t === T.Func && SQL_FUNCS.has(v.v) && toks[0].ctx) add('sqli-boolean-function', ERROR, 2);
      }
    }


    // SELECT ... FROM as a statement or subquery
    if (t.t === T.Stmt && t.v === 'select' && selectLooksSql(toks, i)) {
      const before = prev;
      const startish = !before || before.t === T.LParen || before.t === T.Logic || before.t === T.Op || before.t === T.Comma || before.t === T.Semi || before.t === T.Cmp || (before.t === T.Str && before.ctx) || (before.t === T.Other && before.v === '');
      if (startish) {
        let hasFrom = false;
        for (let k = i + 1; k < n && k < i + 200; k++) {
          if (toks[k].t === T.Kw && toks[k].v === 'from') {
            hasFrom = true;
            break;
          }
        }
        const a = toks[i + 1];
        const b = toks[i + 2];
        const bareWordFrom = !!a && a.t === T.Word && !!b && b.t === T.Kw && b.v === 'from'; // "select x from y"
        const atStart = !before || (before.t === T.Other && before.v === '') || (before.t === T.Str && before.ctx);
        const sqlItem = !!a && ((a.t === T.Func && SQL_FUNCS.has(a.v)) || a.t === T.Var || (a.t === T.Num && (!b || b.t === T.Comma || !!a.comment)));
        if ((atStart && sqlItem) ||
          (hasFrom && !bareWordFrom) || (before && (before.t === T.LParen || before.t === T.Logic))) add('sqli-select-statement', CRITICAL, 2);
      }
    }
    // UNION as the last token after a number/paren or comment tricks (column probing fragments)
    if (t.t === T.Union && i === n - 1 && prev && (prev.t === T.Num || prev.t === T.RParen || prev.comment)) add('sqli-union-fragment', CRITICAL, 2);
    // zero-argument information functions: version(), user(), database()
    if (t.t === T.Func && INFO_FUNCS.has(t.v) && next && next.t === T.LParen && toks[i + 2] && toks[i + 2].t === T.RParen) add('sqli-info-function', CRITICAL, 2);
    // IF(cond, ...) / IIF(cond, ...) with a comparison as condition
    if (t.t === T.Func && (t.v === 'if' || t.v === 'iif' || t.v === 'elt') && next && next.t === T.LParen) {
      let depth = 0;
      let sawCmpInIf = false;
      let sawLitInIf = false;
      for (let k = i + 1; k < n && k < i + 40; k++) {
        const u = toks[k];
        if (u.t === T.LParen) depth++;
        else if (u.t === T.RParen) {
          if (--depth <= 0) break;
        } else if (u.t === T.Comma && depth === 1) {
          // SQL IF(cond, a, b): the condition ends at a comma
          if (sawCmpInIf && sawLitInIf) add('sqli-conditional', CRITICAL, 2);
          break;
        } else if (u.t === T.Cmp) sawCmpInIf = true;
        else if (u.t === T.Num || u.t === T.Str || u.t === T.Var || (u.t === T.Func && SQL_FUNCS.has(u.v)) || u.t === T.Stmt) sawLitInIf = true;
      }
    }
    // nested SQL functions: ASCII(SUBSTRING(...)), LENGTH(COMPRESS(...))
    if (t.t === T.Func && SQL_FUNCS.has(t.v) && next && next.t === T.LParen) {
      const u = toks[i + 2];
      if (u && u.t === T.Func && SQL_FUNCS.has(u.v)) add('sqli-nested-functions', ERROR, 2);
      if (prev && prev.t === T.Op && prev.v !== '*' && toks[i - 2] && (toks[i - 2].t === T.Num || toks[i - 2].t === T.Str)) add('sqli-function-arithmetic', WARNING, 2);
    }
    if (t.t === T.Logic && next && next.t === T.Func && SQL_FUNCS.has(next.v) && (!prev || prev.t === T.Num || prev.t === T.RParen)) add('sqli-boolean-function', CRITICAL, 2);

    // ORDER BY n / GROUP BY after a value (column-count probing)
    if (t.t === T.Kw && (t.v === 'order' || t.v === 'group') && next && next.v === 'by' && prev) {
      const a = toks[i + 2];
      const prevOk = prev.t === T.Num || prev.t === T.RParen || (prev.t === T.Str && (prev.ctx || ctx !== null)) || prev.t === T.Var;
      if (prevOk && a && (a.t === T.Num || a.t === T.Func || a.t === T.LParen || a.t === T.Word)) {
        const after = toks[i + 3];
        if (a.t !== T.Word || !after || after.t === T.Comma || after.comment || a.comment) add('sqli-order-by-probe', CRITICAL, 2);
      }
    }
    // PROCEDURE ANALYSE(
    if (t.v === 'procedure' && next && next.v === 'analyse') add('sqli-procedure-analyse', CRITICAL, 1);

    // ( SELECT ... ) subqueries
    if (t.t === T.LParen && next && next.t === T.Stmt && next.v === 'select' && selectLooksSql(toks, i + 1)) {
      const a = toks[i + 2];
      const b = toks[i + 3];
      if (a && b) add('sqli-subquery', ERROR, 2);
    }

    // SQL function chain like CHAR(..)||CHR( or CONCAT(0x..,
    if (t.t === T.Func && SQL_FUNCS.has(t.v) && next && next.t === T.LParen) add('sqli-function-' + t.v, NOTICE, 4);
  }


  // a first string holding call syntax is code, not a value being broken out of
  const valueCtx = !!ctx && n > 0 && !/[(`{]/.test(toks[0].v);
  // a lone number/variable then a comment: 1--  -1#...  @version--
  {
    let j = 0;
    if (toks[0] && toks[0].t === T.Other && toks[0].v === '') j = 1;
    while (j < n && toks[j].t === T.Op && (toks[j].v === '-' || toks[j].v === '+')) j++;
    const v = toks[j];
    if (!ctx && v && (v.t === T.Num || v.t === T.Var) && v.comment && (v.comment !== 'hash' || j + 1 < n || !v.commentText)) add('sqli-value-comment', CRITICAL, 2);
  }
  // the whole input is one SQL expression ending in a comment (or in the app's closing quote)
  {
    const last = toks[n - 1];
    let from = 0;
    let ok = true;
    if (ctx) {
      const t1 = toks[1];
      ok = valueCtx && !!toks[0] && !!toks[0].ctx && !toks[0].open && !!t1 && (t1.t === T.Logic || t1.t === T.Cmp || t1.t === T.RParen || (t1.t === T.Op && t1.v !== 'not'));
      from = 1;
    }
    if (ok && last && n - from >= 2) {
      const endsComment = !!last.comment && last.comment !== 'hash';
      const endsQuote = !!ctx && last.t === T.Str && last.open && last.q === ctx && last.v.indexOf(ctx) < 0 && !/\S\s+\S/.test(last.v) && (ctx === "'" ? shortValue(last.v) : (/^[\w.-]{0,4}$/.test(last.v) && toks[1].v !== '*')) && n - from >= 2;
      if (endsComment || endsQuote || (ctx && last.comment)) {
        const ops = exprOps(toks, from);
        let substance = false;
        if (!ctx) {
          // only literals (no bare words) joined by operators/parentheses: ( 'a' ) --   1 * 1--
          let lits = 0;
          let words = 0;
          for (let k = from; k < n; k++) {
            if (toks[k].t === T.Word) words++;
            else if (toks[k].t === T.Num || toks[k].t === T.Str || toks[k].t === T.Var) lits++;
          }
          substance = words === 0 && lits > 0 && !last.commentProse;
          if (lits + words === 0 && !toks.some((u) => u.t === T.Func)) ok = false; // no operand at all: <!-- ... -->
        }
        let hasWords = false;
        for (let k = from; k < n; k++) if (toks[k].t === T.Word) hasWords = true;
        for (let k = from; k < n && !substance; k++) {
          const u = toks[k];
          if (
            u.t === T.Logic ||
            u.t === T.Stmt ||
            (u.t === T.Func && SQL_FUNCS.has(u.v)) ||
            ((u.t === T.Cmp || u.t === T.Func) && (ctx || (!hasWords && !last.commentProse))) ||
            (ctx && (u.t === T.Num || u.t === T.Var || (u.t === T.Str && k > from && !(k === n - 1 && u.open))))
          ) {
            substance = true;
            break;
          }
        }
        if (ok && ops >= 1 && substance) add('sqli-expression', CRITICAL, 2);
      }
    }
  }

  // Quote context breaks: the first token closes the application's string.
  if (ctx && n > 0 && toks[0].ctx && !toks[0].open && valueCtx) {
    const s0 = toks[0];
    const t1 = toks[1];
    // admin'--  admin'/*  admin'#
    if (s0.comment && (s0.comment !== 'hash' || !s0.commentText) && !s0.commentProse && (n === 1 || toks[1].t === T.Other)) {
      if (s0.v.length > 0 && s0.v.length <= 64 && !/\s/.test(s0.v)) add('sqli-quote-comment', CRITICAL, 2);
      else if (s0.v.length > 0) add('sqli-quote-comment', CRITICAL, 3);
    }
    if (t1 && (t1.t === T.Logic || t1.t === T.Cmp || (t1.t === T.Op && t1.v !== '.' && (t1.v !== 'not' || (toks[2] && toks[2].t === T.Cmp))))) {
      let j = 2;
      if (t1.t === T.Op && t1.v === 'not' && toks[2] && toks[2].t === T.Cmp) j = 3;
      const t2 = toks[j];
      if (t2 && t2.t === T.Str && t2.q === ctx && t2.open && j === n - 1 && t2.v.indexOf(ctx) < 0 && !/\S\s+\S/.test(t2.v) && (ctx === "'" ? shortValue(t2.v) : (/^[\w.-]{0,4}$/.test(t2.v) && t1.v !== '*'))) add('sqli-quote-break-operator', CRITICAL, 2);
      else if (t2 && (t2.t === T.Num || t2.t === T.Var) && (t2.comment || j === n - 1) && t1.t === T.Logic) add('sqli-quote-break-operator', CRITICAL, 2);
    }
    // ') ... or ')) ... : closing parentheses then SQL
    if (t1 && t1.t === T.RParen) {
      let j = 1;
      while (j < n && toks[j].t === T.RParen) j++;
      const u = toks[j];
      if (u && (u.t === T.Logic || u.t === T.Union || u.t === T.Semi) && j + 1 < n) add('sqli-quote-paren-break', ERROR, 2);
      if (u && u.t === T.Comma && toks[j + 1] && toks[j + 1].t === T.LParen) add('sqli-quote-paren-break', ERROR, 2);
    }
  }
  // number, closing paren(s) then a comment: 1)--   1))/*
  if (n >= 2 && toks[0].t === T.Num) {
    let j = 1;
    while (j < n && toks[j].t === T.RParen) j++;
    const u = toks[j];
    if (j > 1 && u && (u.t === T.Comma || u.t === T.Semi) && toks[j + 1] && (toks[j + 1].t === T.LParen || toks[j + 1].t === T.Stmt)) {
      add('sqli-paren-break', ERROR, 2);
    }
    if (j > 1 && toks[j - 1].comment && toks[j - 1].comment !== 'hash') add('sqli-paren-break', WARNING, 3);
  }
}

const INFO_FUNCS = new Set(
  'version database user current_user system_user session_user schema db_name user_name sqlite_version connection_id last_insert_id suser_sname host_name'.split(' '),
);

/**
 * Do tokens [from, n) form one SQL expression: operands joined by operators, parentheses,
 * function calls, subqueries — no two operands in a row (prose)? Returns the operator count, or -1.
 */
function exprOps(toks: Tok[], from: number): number {
  let ops = 0;
  let prevValue = false;
  let prevParen = false;
  for (let k = from; k < toks.length; k++) {
    const t = toks[k];
    switch (t.t) {
      case T.Num:
      case T.Str:
      case T.Var:
      case T.Word:
        if (prevValue) return -1;
        prevValue = true;
        break;
      case T.Func:
        if (prevValue) return -1;
        ops++;
        prevValue = false;
        break;
      case T.Op:
      case T.Cmp:
      case T.Logic:
        ops++;
        prevValue = false;
        break;
      case T.LParen:
        if (prevValue) return -1;
        prevValue = false;
        break;
      case T.RParen:
        ops++;
        prevValue = true;
        break;
      case T.Comma:
        prevValue = false;
        break;
      case T.Stmt:
        if (t.v !== 'select' || !prevParen) return -1;
        ops++;
        prevValue = false;
        break;
      case T.Kw:
        if (t.v === 'case' || t.v === 'when' || t.v === 'then' || t.v === 'else' || t.v === 'end' || t.v === 'from' || t.v === 'for') {
          prevValue = t.v === 'end';
          break;
        }
        return -1;
      case T.Other:
        if (t.v === '' && k === 0) break;
        return -1;
      default:
        return -1;
    }
    prevParen = t.t === T.LParen;
  }
  return ops;
}

/** A short bare value (`B`, ` 1 `): what is left of a quoted value after a break-out. Length-guarded before the regex. */
function shortValue(v: string): boolean {
  return v.length <= 16 && /^\s*[\w.-]{0,8}\s*$/.test(v);
}

function ctxRule(rule: string): boolean {
  return rule === 'sqli-boolean-truncated' || rule === 'sqli-expression' || rule === 'sqli-quote-break-operator' || rule === 'sqli-boolean-function' || rule === 'sqli-quote-paren-break';
}

function stackedLooksSql(toks: Tok[], j: number, strict = false): boolean {
  const s = toks[j];
  const a = toks[j + 1];
  const b = toks[j + 2];
  switch (s.v) {
    case 'select':
      return selectLooksSql(toks, j);
    case 'load':
      return !!a && (a.v === 'data' || a.v === 'xml');
    case 'call':
      return !!a && a.t === T.Func;
    case 'insert':
      return !!a && a.v === 'into';
    case 'update':
      return !!a && !!b && (a.t === T.Word || a.t === T.Kw) && b.v === 'set';
    case 'delete':
      return !!a && (a.v === 'from' || ((a.v === 'low_priority' || a.v === 'quick' || a.v === 'ignore') && !!b && b.v === 'from'));
    case 'drop':
    case 'create':
    case 'alter':
    case 'truncate':
      return (
        !!a &&
        (['table', 'database', 'procedure', 'function', 'user', 'view', 'index', 'schema', 'login', 'trigger'].includes(a.v) ||
          (!strict && s.v === 'drop' && a.t === T.Word && (!b || !!a.comment)))
      );
    case 'exec':
    case 'execute':
      return !!a && (a.t === T.Func || a.t === T.LParen || a.t === T.Str || a.t === T.Var || /^(xp_|sp_|master\.|sys\.)/.test(a.v));
    case 'declare':
      return !!a && a.t === T.Var;
    case 'set':
      return !!a && a.t === T.Var && !!b && b.t === T.Cmp;
    case 'shutdown':
      return !a || !!s.comment || a.v === 'with' || a.t === T.Other || a.t === T.Semi;
    case 'waitfor':
      return !!a && (a.v === 'delay' || a.v === 'time');
    case 'if':
      return true;
    case 'begin':
      return !!a && (a.t === T.Stmt || a.t === T.Var);
    default:
      return false;
  }
}

// Every rule needs one of these characters or keywords; values without any skip tokenizing.
const SQL_CHARS = /['"`#;()=<>@|&\\!~^*%]|--|\/\*/;
const SQL_WORDS =
  /\b(?:union|intersect|except|select|like|rlike|regexp|sounds|between|is|in|case|order|group|update|insert|delete|drop|exec|execute|declare|create|alter|truncate|waitfor|into|procedure|having|where|and|or|xor|div|mod|shutdown|load|call)\b/i;

/** Run the SQL injection detector; returns every finding (all levels). */
export function detectSqli(decoded: string): Finding[] {
  if (!SQL_CHARS.test(decoded) && !SQL_WORDS.test(decoded)) return [];
  const out = new Map<string, Finding>();
  execComment = false;
  scanTokens(tokenize(decoded, null), null, out);
  if (decoded.indexOf("'") >= 0) scanTokens(tokenize(decoded, "'"), "'", out);
  if (decoded.indexOf('"') >= 0) scanTokens(tokenize(decoded, '"'), '"', out);
  if (execComment) {
    out.set('sqli-mysql-executable-comment', { rule: 'sqli-mysql-executable-comment', score: WARNING, level: 2 });
  }
  return [...out.values()];
}

/** Token-type fingerprint of a value (for debugging and tests). */
export function sqlFingerprint(decoded: string, ctx: string | null = null): string {
  return tokenize(decoded, ctx)
    .map((t) => t.t + (t.comment ? 'c' : ''))
    .join('');
}
