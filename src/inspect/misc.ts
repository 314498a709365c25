// Path traversal, shell paths and CRLF/header injection detectors.
// Flat regexes only (linear), run on the decoded view.

import type { Location } from './normalize.js';
import { CRITICAL, ERROR, NOTICE, WARNING, type Finding } from './types.js';

// `..` then a separator, at the start or after a separator/`=`. Overlong and %u
// encodings are already decoded by normalize (`%c0%af` → `/`, `%u2215` → `∕`).
const TRAVERSAL = /(?:^|[/\\=:])\.\.[/\\\u2215\u2216\uff0f\uff3c]/g;
const TRAVERSAL_END = /[/\\]\.\.$/;
const SENSITIVE_FILE =
  /(?:\/etc\/(?:passwd|shadow|group|hosts|issue|sudoers|crontab|master\.passwd)|\/proc\/(?:self|\d+|interrupts|version|cpuinfo|meminfo|mounts|net|sys|kcore|config)\b|\/sys\/(?:class|kernel|block|devices|module|power|firmware)\b|\/var\/log\/|boot\.ini|win\.ini|system\.ini|[\\/]system32[\\/]+(?:config(?:[\\/]|$)|drivers[\\/]+etc[\\/]+hosts)|\.htpasswd|\.htaccess|\/\.ssh\/|id_rsa|web\.config|wp-config\.php|\/\.env\b|\/\.git\/)/i;

const SHELL_PATH = /(?:^|[\s;&|`'"(=])\/(?:usr\/)?s?bin\/(?:ba|z|k|c|da)?sh\b|\bcmd(?:\.exe)?\s+\/c\b|\bpowershell(?:\.exe)?\s+-|\$\{ifs\}|\$ifs\b|\$\{?path:/i;

// a header line needs a value: `\nlocation:` followed by nothing is not one
/** Tool and secret folders at a path's start or after a separator (`/.claude/settings.json`, `/.aws/credentials`). */
const HIDDEN_FOLDER =
  /(?:^|[\/\\=])\.(?:claude|cursor|aider|zed|windsurf|a0proj|junie|continue|codeium|copilot|docker|aws|azure|kube|ssh|gnupg|npmrc|pypirc|netrc|git|svn|hg|bzr|env|vscode|idea|bash_history|zsh_history|mysql_history|psql_history|cursorignore|dockercfg|git-credentials|terraform|boto)(?:[\/\\.]|$)|\/[a-z_-]{0,20}errors?\.log$/i;
const HEADER_INJECT = /[\r\n][ \t]*([a-z][a-z0-9-]{1,40})[ \t\r]*:[ \t]*[^\s]/gi;
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
  if (decoded.indexOf('.') >= 0 && HIDDEN_FOLDER.test(decoded)) add('traversal-hidden-folder', CRITICAL, 1);

  // command injection: shell.ts; a shell's path or invocation is a signal of its own
  if (SHELL_PATH.test(decoded)) add('cmdi-shell', ERROR, 2);

  // CRLF / header injection
  if (decoded.indexOf('\n') >= 0 || decoded.indexOf('\r') >= 0) {
    const crlfAnywhere = location !== 'body';
    HEADER_INJECT.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = HEADER_INJECT.exec(decoded))) {
      // in a body, a bare LF is a text line break (YAML, Markdown); injection into a header needs CR
      if (!crlfAnywhere && decoded.charCodeAt(m.index) !== 13 && decoded.charCodeAt(m.index - 1) !== 13) continue;
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
