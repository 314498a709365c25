// Path traversal, command injection and CRLF/header injection detectors.
// Flat regexes only (linear), run on the decoded view.

import type { Location } from './normalize.js';
import { CRITICAL, ERROR, NOTICE, WARNING, type Finding } from './types.js';

// `..` then a separator, at the start or after a separator/`=`. Overlong and %u
// encodings are already decoded by normalize (`%c0%af` → `/`, `%u2215` → `∕`).
const TRAVERSAL = /(?:^|[/\\=:])\.\.[/\\\u2215\u2216\uff0f\uff3c]/g;
const TRAVERSAL_END = /[/\\]\.\.$/;
const SENSITIVE_FILE =
  /(?:\/etc\/(?:passwd|shadow|group|hosts|issue|sudoers|crontab|master\.passwd)|\/proc\/self\/|\/proc\/\d+\/(?:environ|cmdline)|\/var\/log\/|boot\.ini|win\.ini|system\.ini|\\windows\\system32|\/windows\/system32|\.htpasswd|\.htaccess|\/\.ssh\/|id_rsa|web\.config|wp-config\.php|\/\.env\b|\/\.git\/)/i;
const SCHEME_FILE = /(?:^|[\s"'=])(?:file|php|phar|expect|zip|glob|data|gopher|dict):\/\/|\bphp:\/\/(?:filter|input)/i;

// Commands that are not English words: any argument (or none) after a shell metacharacter counts.
const STRONG_COMMANDS =
  'wget|curl|nc|ncat|netcat|bash|sh|zsh|ksh|csh|python|python3|perl|ruby|php|telnet|nslookup|whoami|uname|ifconfig|ipconfig|systeminfo|powershell|certutil|bitsadmin|mkfifo|nohup|xterm|chmod|chown|useradd|crontab|base64|ls|pwd|id|netstat|printenv|passwd|tftp';
// Commands that are also English words: need a path/option/number-looking argument.
const WORD_COMMANDS = 'cat|echo|sleep|ping|rm|kill|touch|sudo|su|grep|exec|eval|ssh|scp|ftp|dig';
const CMD_PREFIX = '(?:[;&|\\n]|\\$\\()[ \\t]*(?:\\/(?:usr\\/)?s?bin\\/)?';
const CMD_STRONG = new RegExp(`${CMD_PREFIX}(?:${STRONG_COMMANDS})(?=$|[\\s;&|<>\`)$])`, 'gi');
const CMD_WORD = new RegExp(`${CMD_PREFIX}(?:${WORD_COMMANDS})\\s+[-/.$'"\`|;&<>0-9]`, 'gi');
// `$(cmd` anywhere; a backtick only where it is not a Markdown code span (start, or glued to a value / metacharacter)
const CMD_SUBST_BT = new RegExp(`(?:^|[^\\s(\\[])\`[ \\t]*(?:\\/(?:usr\\/)?s?bin\\/)?(?:${STRONG_COMMANDS})\\b`, 'i');
const CMD_SUBST = new RegExp(`(?:\\$\\()[ \\t]*(?:\\/(?:usr\\/)?s?bin\\/)?(?:${STRONG_COMMANDS}|${WORD_COMMANDS})\\b`, 'i');
const SHELL_PATH = /(?:^|[\s;&|`'"(=])\/(?:usr\/)?s?bin\/(?:ba|z|k|c|da)?sh\b|\bcmd(?:\.exe)?\s+\/c\b|\bpowershell(?:\.exe)?\s+-|\$\{ifs\}|\$ifs\b|\$\{?path:/i;

const HEADER_INJECT = /[\r\n][ \t]*([a-z][a-z0-9-]{1,40})[ \t]*:/gi;
const DANGEROUS_HEADERS = new Set([
  'set-cookie',
  'location',
  'content-type',
  'content-length',
  'transfer-encoding',
  'refresh',
  'x-forwarded-for',
  'x-forwarded-host',
  'host',
  'cookie',
  'authorization',
  'content-security-policy',
  'access-control-allow-origin',
  'x-xss-protection',
  'connection',
]);

export function detectMisc(decoded: string, location: Location): Finding[] {
  const out: Finding[] = [];
  const add = (rule: string, score: number, level: Finding['level']) => out.push({ rule, score, level });

  // path traversal
  if (decoded.indexOf('..') >= 0) {
    TRAVERSAL.lastIndex = 0;
    let count = 0;
    while (TRAVERSAL.exec(decoded) && count < 3) count++;
    if (count >= 2) add('traversal-dotdot', CRITICAL, 1);
    else if (count === 1) add('traversal-dotdot', location === 'body' ? WARNING : ERROR, 2);
    else if (TRAVERSAL_END.test(decoded)) add('traversal-dotdot', NOTICE, 3);
  }
  if (SENSITIVE_FILE.test(decoded)) add('traversal-sensitive-file', CRITICAL, 1);
  if (SCHEME_FILE.test(decoded)) add('traversal-stream-wrapper', WARNING, 2);

  // command injection
  const hasMeta = /[;&|`$\n]/.test(decoded);
  if (hasMeta) {
    if (CMD_SUBST.test(decoded) || CMD_SUBST_BT.test(decoded)) add('cmdi-substitution', CRITICAL, 1);
    for (const re of [CMD_STRONG, CMD_WORD]) {
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      let hit = false;
      while ((m = re.exec(decoded))) {
        const meta = m[0].trimStart()[0];
        if (meta !== '&') {
          add('cmdi-command-chain', CRITICAL, 2);
          hit = true;
          break;
        }
        add('cmdi-command-chain-amp', WARNING, 3);
      }
      if (hit) break;
    }
  }
  if (SHELL_PATH.test(decoded)) add('cmdi-shell', ERROR, 2);

  // CRLF / header injection
  if (decoded.indexOf('\n') >= 0 || decoded.indexOf('\r') >= 0) {
    const crlfAnywhere = location !== 'body';
    HEADER_INJECT.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = HEADER_INJECT.exec(decoded))) {
      const name = m[1].toLowerCase();
      if (DANGEROUS_HEADERS.has(name)) {
        add('crlf-header-injection', CRITICAL, location === 'body' ? 2 : 1);
        break;
      }
      if (crlfAnywhere) {
        add('crlf-header-injection', CRITICAL, 2);
        break;
      }
    }
    if (crlfAnywhere && /[\r\n]/.test(decoded)) add('crlf-newline', location === 'header' || location === 'cookie' || location === 'path' ? ERROR : NOTICE, 3);
  }
  return out;
}
