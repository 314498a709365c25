// Code injection detectors: PHP, Java (deserialization gadgets, expression
// languages, Log4Shell lookups), Node.js and other server-side languages,
// template and include injection, NoSQL operators and SSRF targets.
//
// Input is the markup view (URL/HTML/JS-decoded, lower-cased). A literal
// prefilter (`indexOf` of the few characters or words a family needs) keeps most
// values away from every regex; the regexes are flat (no nested quantifiers).

import { CRITICAL, NOTICE, WARNING, type Finding } from './types.js';

type Add = (rule: string, score: number, level: Finding['level']) => void;

// ---- PHP ----------------------------------------------------------------

/** PHP functions that run code, commands or reach files and sockets (an attacker's first calls). */
const PHP_DANGEROUS = new Set(
  (
    'system exec shell_exec passthru popen proc_open pcntl_exec eval assert create_function call_user_func call_user_func_array ' +
    'preg_replace_callback file_get_contents file_put_contents fopen fwrite fputs readfile unlink base64_decode gzinflate gzuncompress ' +
    'str_rot13 phpinfo chmod chown move_uploaded_file curl_exec curl_init fsockopen pfsockopen ini_set ini_get getenv putenv highlight_file ' +
    'show_source php_uname escapeshellcmd escapeshellarg unserialize parse_str extract array_map array_filter usort uasort ' +
    'register_shutdown_function set_error_handler posix_getpwuid posix_kill posix_mkfifo posix_setuid proc_nice getcwd scandir opendir readdir ' +
    'file_exists is_writable is_readable copy rename mkdir rmdir touch symlink link tempnam tmpfile glob fpassthru fgets fread ' +
    'mail mb_send_mail error_log dl apache_setenv ob_start var_dump print_r var_export debug_zval_dump get_defined_vars get_current_user ' +
    'getmypid phpversion hex2bin bin2hex gzdecode convert_uudecode strrev implode vsprintf ' +
    'simplexml_load_string simplexml_load_file mysql_query mysqli_query pg_query sqlite_query odbc_exec iterator_apply spl_autoload_register ' +
    'function_exists class_exists method_exists get_class array_walk array_reduce preg_replace preg_match include_once require_once'
  ).split(' '),
);
/** Of those, the ones that are also common words or names in other languages: they need PHP context. */
const PHP_COMMON = new Set('exec system eval assert copy rename mkdir rmdir touch link glob mail implode include_once require_once get_class'.split(' '));
const PHP_OPEN_TAG = /<\?(?:php|=|\s|$|(?!xml\s+version\b|xpacket\b|xml-stylesheet\b)[a-z_$])|\[\/?php\]|\{\/?php\}/;
const PHP_SUPERGLOBAL = /\$(?:_(?:get|post|cookie|request|server|files|env|session)\b|globals\b|http_(?:raw_post_data|get_vars|post_vars|cookie_vars|server_vars|env_vars|session_vars)\b)/;
const PHP_WRAPPER = /\b(?:php|phar|zlib|compress\.zlib|compress\.bzip2|expect|glob|ogg|rar|ssh2(?:\.[a-z]+)?|zip|data):\/\//;
const PHP_SERIALIZED = /(?:^|[;{}"'])\s*(?:[oc]:\d{1,5}:"[a-z_\\][a-z0-9_\\]{0,100}":\d{1,5}:\{|a:\d{1,5}:\{\s*[isdbn]:)/;
const PHP_INI = /\b(?:allow_url_(?:include|fopen)|auto_(?:prepend|append)_file|disable_functions|open_basedir|safe_mode|register_globals|magic_quotes_gpc|display_errors|error_log|include_path|sendmail_path|short_open_tag|suhosin\.[a-z_.]+)\s*=/;
// `$x(`, `$x['a'](`, `$$x(`, `${'x'}(`: calling a variable
const PHP_VAR_CALL = /\$+(?:[a-z_][a-z0-9_]{0,64}|\{[^}]{0,64}\})(?:\s*\[[^\]]{0,64}\]|\s*\{[^}]{0,64}\}){0,4}\s*(?:\/\*[^*]{0,64}\*\/\s*)?\(/;
// `("sys"."tem")(`, `'sys'.'tem'(`: a call on a concatenated string
const PHP_CONCAT_CALL = /["'][a-z_]{1,30}["']\s*\.\s*["'][a-z_]{1,30}["']\)?\s*\(/;
// `(system)(...)`, `('system')(...)`: a call through a parenthesized name
const PHP_WRAPPED_CALL = /\(\s*["']?\s*([a-z_][a-z0-9_]{1,40})\s*["']?\s*\)\s*\(/;
const FUNC_CALL = /([a-z_][a-z0-9_]{1,40})\s*(?:\/\*[^*]{0,64}\*\/\s*|#[^\n]{0,64}\n\s*|\/\/[^\n]{0,64}\n\s*)?\(/g;

function detectPhp(s: string, add: Add): void {
  if (s.indexOf('<?') >= 0 || s.indexOf('php]') >= 0 || s.indexOf('php}') >= 0 || s.indexOf('?>') >= 0) {
    if (PHP_OPEN_TAG.test(s)) add('php-open-tag', CRITICAL, 1);
  }
  const dollar = s.indexOf('$') >= 0;
  if (dollar && PHP_SUPERGLOBAL.test(s)) add('php-superglobal', CRITICAL, 1);
  if (s.indexOf('://') >= 0 && PHP_WRAPPER.test(s)) add('php-stream-wrapper', CRITICAL, 1);
  if (s.indexOf(':{') >= 0 && PHP_SERIALIZED.test(s)) add('php-serialized-object', CRITICAL, 1);
  if (s.indexOf('=') >= 0 && PHP_INI.test(s)) add('php-ini-directive', CRITICAL, 1);
  if (s.indexOf('(') < 0) return;
  if (dollar && PHP_VAR_CALL.test(s)) add('php-variable-call', CRITICAL, 1);
  if (PHP_CONCAT_CALL.test(s)) add('php-concat-call', CRITICAL, 1);
  const wrapped = PHP_WRAPPED_CALL.exec(s);
  if (wrapped && PHP_DANGEROUS.has(wrapped[1])) add('php-function-call', CRITICAL, 1);
  FUNC_CALL.lastIndex = 0;
  let calls = 0;
  for (let m = FUNC_CALL.exec(s); m && calls < 64; m = FUNC_CALL.exec(s), calls++) {
    const name = m[1];
    if (!PHP_DANGEROUS.has(name)) continue;
    const before = m.index > 0 ? s.charCodeAt(m.index - 1) : 0;
    if (before === 46 /* . */ && PHP_COMMON.has(name)) continue; // a method of another language (`re.exec(`)
    if (PHP_COMMON.has(name)) {
      // common names count when the argument looks like an attack: a string, a variable, a nested call
      const arg = s.slice(m.index + m[0].length, m.index + m[0].length + 80);
      if (/^\s*(?:["'`$]|[a-z_]+\s*\(|\/|\$_)/.test(arg) || /^\s*(?:whoami|id|ls|cat|uname|pwd|dir|ipconfig|ifconfig|netstat|ps|wget|curl)\b/.test(arg)) add('php-function-call', CRITICAL, 1);
      else add('php-function-call', WARNING, 3);
    } else add('php-function-call', CRITICAL, 1);
    return;
  }
}

// ---- Java -----------------------------------------------------------------

/** Java classes and packages that serve as exploit gadgets or give code execution. */
const JAVA_CLASS =
  /\b(?:java\.(?:lang\.(?:runtime|process|processbuilder|processimpl|reflect|system|class|classloader|thread|object|string|integer|number|enum)|io\.[a-z]|net\.[a-z]|nio\.[a-z]|util\.(?:scanner|zip)|beans\.|rmi\.)|javax\.(?:script|naming|management|el)\b|sun\.misc\.|jdk\.jshell|com\.sun\.(?:org\.apache|jndi|rowset)|com\.opensymphony\.xwork2|org\.apache\.(?:commons\.collections|xalan|struts2?|tomcat|catalina|bcel)|org\.springframework\.(?:context|beans|expression)|org\.codehaus\.groovy|groovy\.lang|freemarker\.(?:core|template|ext)|ognl\.|bsh\.interpreter|org\.mozilla\.javascript|org\.hibernate|javassist\.)/;
const JAVA_GADGET =
  /(?:clonetransformer|forclosure|instantiatefactory|instantiatetransformer|invokertransformer|prototypeclonefactory|prototypeserializationfactory|whileclosure|chainedtransformer|constanttransformer|templatesimpl|getruntime|processbuilder|classloader|declaredclass|_memberaccess|ognlcontext|memberaccess|getdeclaredmethod|getdeclaredfield|getconstructor|newinstance|jdbcrowsetimpl|lazymap|transformedmap)/;
const JAVA_CALL = /\.(?:getclass|forname|getmethod|invoke|exec|getruntime|start|loadclass|defineclass|newinstance|getdeclaredmethods?|getdeclaredconstructors?)\s*\(/;
const JAVA_SERIAL = /\bro0ab|aced0005|\\xac\\xed\\x00\\x05|\u00ac\u00ed\u0000\u0005/;
/** Log4Shell and other lookup syntaxes, once `${::-x}` / `${lower:x}` noise is removed. */
const LOOKUP = /\$\{[^}]{0,200}\}/;
const LOOKUP_PREFIX = /\$\{\s*(?:jndi|lower|upper|env|sys|java|date|ctx|main|bundle|k8s|docker|spring|log4j|web|marker|base64|sd|map|jvmrunargs|event|\$\{|::-)/;

function detectJava(s: string, add: Add): void {
  if (s.indexOf('.') >= 0 && JAVA_CLASS.test(s)) add('java-class', CRITICAL, 1);
  if (JAVA_GADGET.test(s)) add('java-gadget', CRITICAL, 1);
  if (s.indexOf('.') >= 0 && s.indexOf('(') >= 0 && JAVA_CALL.test(s)) add('java-reflection-call', CRITICAL, 2);
  if (JAVA_SERIAL.test(s)) add('java-serialized-object', CRITICAL, 1);
  const dl = s.indexOf('${');
  if (dl >= 0) {
    if (LOOKUP_PREFIX.test(s)) add('java-lookup-injection', CRITICAL, 1);
    else {
      // obfuscated lookups: letters left after the `${` noise spell jndi
      const tail = s.slice(dl, dl + 400).replace(/[^a-z]/g, '');
      if (tail.indexOf('jndi') >= 0 || tail.indexOf('ldap') >= 0 || tail.indexOf('rmi') >= 0) add('java-lookup-injection', CRITICAL, 1);
      else if (LOOKUP.test(s)) add('template-expression', NOTICE, 3);
    }
  }
}

// ---- Node.js and other runtimes -------------------------------------------

const NODE_RCE =
  /\b(?:require\s*\(\s*["'`](?:child_process|fs|net|vm|os|process|http)["'`]|child_process|process\s*\.\s*(?:mainmodule|binding|dlopen|kill|exit|env\b)|global\s*\.\s*process|module\s*\.\s*constructor|constructor\s*\.\s*constructor|new\s+function\s*\(|function\s*\(\s*["'`]|\bexecsync\s*\(|\bspawnsync\s*\(|\bexecfile\s*\(|_\$\$nd_func\$\$_|\bimport\s*\(\s*["'`])/;
const PROTO_POLLUTION = /(?:__proto__|constructor\s*(?:\.|\[\s*["'`]?)\s*prototype)/;

/** `while(<always true>)`: an endless loop handed to eval (a truthy literal, not a condition). */
const NODE_DOS = /\bwhile\s*\(\s*(?:!+\s*(?:""|''|``|0|false|null|undefined|nan)|!!\s*(?:\[\]|\{\}|1|true)|[+-]?[1-9][0-9]*|true|this|new\s+[a-z_$][\w$]*|string|object|number|boolean|function|symbol|\[\]|\{\}|"[^"]+"|'[^']+')\s*\)|\bfor\s*\(\s*;\s*;\s*\)/;
const RUBY_RCE = /\b(?:kernel\s*\.\s*(?:exec|system|spawn|open|eval)|process\s*\.\s*spawn|io\s*\.\s*popen|open3\s*\.|%x\s*[{(\[]|instance_eval|class_eval|\.send\s*\(\s*:)/;
const PERL_RCE = /@\{\s*\[\s*(?:system|exec|qx|`)|\bqx\s*[{(\[\/]|\buse\s+(?:ipc::open|posix)\b/;
const PYTHON_RCE = /\b(?:__import__\s*\(|os\s*\.\s*(?:system|popen|exec[lv]p?e?)\s*\(|subprocess\s*\.\s*(?:call|popen|run|check_output)\s*\(|__builtins__|__globals__|__subclasses__\s*\(|__class__\s*\.\s*__|pickle\s*\.\s*loads)/;

function detectRuntimes(s: string, add: Add): void {
  const call = s.indexOf('(') >= 0;
  const dot = s.indexOf('.') >= 0;
  if ((call || dot || s.indexOf('_') >= 0) && NODE_RCE.test(s)) add('node-code-injection', CRITICAL, 1);
  if ((s.indexOf('proto') >= 0) && PROTO_POLLUTION.test(s)) add('node-prototype-pollution', CRITICAL, 1);
  if (s.indexOf('(') >= 0 && NODE_DOS.test(s)) add('node-dos-loop', CRITICAL, 1);
  if ((call || dot || s.indexOf('%') >= 0 || s.indexOf('_') >= 0) && RUBY_RCE.test(s)) add('ruby-code-injection', CRITICAL, 1);
  if (s.indexOf('@{') >= 0 || s.indexOf('qx') >= 0 || s.indexOf('use ') >= 0) if (PERL_RCE.test(s)) add('perl-code-injection', CRITICAL, 1);
  if (s.indexOf('_') >= 0 || s.indexOf('.') >= 0) if (PYTHON_RCE.test(s)) add('python-code-injection', CRITICAL, 1);
}

// ---- templates, includes ----------------------------------------------------

/** `{{ x }}`, `${ x }`, `#{ x }`, `*{ x }`, `{% x %}`: the expression inside is judged on its own. */
const TEMPLATE_EXPR = /(?:\{\{|[$#*]\{)([^{}]{0,400})\}|\{%([^%]{0,400})%\}/g;
const EXPR_CODE = /__|[a-z_\]'"]\s*\(|\[\s*["']|\b(?:import|include|set|for|if|exec)\b|^\s*\d+\s*[*+\/-]\s*\d+\s*\}?\s*$/;
const TEMPLATE_TAG = /<#(?:assign|include|import|list|if|macro)\b|#set\s*\(\s*\$|<%=?[^%]{0,400}%>/;
const SSI = /<!--\s*#\s*(?:exec|include|echo|config|set|printenv|fsize|flastmod|if|elif)\b/;

function detectTemplates(s: string, add: Add): void {
  if (s.indexOf('{') >= 0) {
    TEMPLATE_EXPR.lastIndex = 0;
    let n = 0;
    for (let m = TEMPLATE_EXPR.exec(s); m && n < 32; m = TEMPLATE_EXPR.exec(s), n++) {
      if (EXPR_CODE.test(m[1] ?? m[2])) {
        add('template-injection', CRITICAL, 2);
        break;
      }
    }
  }
  if ((s.indexOf('<#') >= 0 || s.indexOf('<%') >= 0 || s.indexOf('#set') >= 0) && TEMPLATE_TAG.test(s)) add('template-injection', CRITICAL, 2);
  if (s.indexOf('<!--') >= 0 && SSI.test(s)) add('ssi-injection', CRITICAL, 1);
}

// ---- NoSQL, LDAP --------------------------------------------------------------

const NOSQL_OPERATOR = /(?:^|["'\[{,\s])\$(?:ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|expr|or|and|not|nor|elemmatch|all|size|type|mod|text|jsonschema|function|accumulator|lookup|merge|out)\b/;

/** LDAP filter breakouts: `)(attr=`, `)(|`, `)!(`, `)|(`, `*)(`. */
const LDAP_FILTER = /\)\s*(?:[!|&]\s*)?\(\s*[|&!]?\s*\(?\s*[a-z][a-z0-9-]{0,40}\s*[~<>]?=|\)\s*\(\s*[|&!]|\*\s*\)\s*(?:[!|&]\s*)?\(/;

function detectQueries(s: string, add: Add): void {
  if (s.indexOf('$') >= 0 && NOSQL_OPERATOR.test(s)) add('nosql-operator', CRITICAL, 1);
  if (s.indexOf(')') >= 0) if (LDAP_FILTER.test(s)) add('ldap-filter-injection', CRITICAL, 1);
}

// ---- SQL fragments the tokenizer leaves alone ------------------------------------

/** Catalogs and procedures only an attacker names in a parameter. */
const SQL_CATALOG = /\b(?:information_schema|pg_catalog|pg_shadow|sysobjects|syscolumns|sys\.(?:objects|tables|columns|databases|sql_logins)|mysql\.(?:user|db)|msdb\.|master\.\.|xp_cmdshell|xp_regread|xp_dirtree|sp_executesql|sp_oacreate|sp_makewebtask|sp_password|dbms_(?:pipe|lock|xmlgen|java)|utl_(?:http|inaddr|file))\b/;
/** PostgreSQL JSON operators between literals, and casts to json: 942550's shapes. */
const SQL_JSON = /::jsonb?\b|['"]\s*(?:<@|@>|\?\||\?&|#>>?|->>?)\s*['"]/;
/** A value that is only a SQL-only function's opening: `database(`, `group_concat (`, `pg_sleep(`. */
const SQL_FUNC_VALUE =
  /^\s*(?:database|db_name|schema_name|current_user|session_user|system_user|user_name|suser_name|group_concat|concat_ws|concat|make_set|unhex|hex|pg_sleep|load_file|xmltype|extractvalue|updatexml|benchmark|sleep|md5|mid|substr|substring|strcmp|rtrim|ltrim|decode|encode|char|chr|ascii|ord|version|find_in_set|name_const|json_valid|json_extract|starts_with|unistr|jsonb_pretty|json_build_object)\s*\\?\(/;

function detectSqlFragments(s: string, add: Add): void {
  if (s.indexOf('_') >= 0 || s.indexOf('.') >= 0) if (SQL_CATALOG.test(s)) add('sqli-catalog', CRITICAL, 1);
  if ((s.indexOf('::') >= 0 || s.indexOf('@') >= 0 || s.indexOf('>') >= 0 || s.indexOf('?') >= 0) && SQL_JSON.test(s)) add('sqli-json-operator', CRITICAL, 1);
  if (s.length < 200 && s.indexOf('(') >= 0 && SQL_FUNC_VALUE.test(s)) add('sqli-function-value', CRITICAL, 1);
}

// ---- protocol attacks carried in values --------------------------------------------

/** A request line inside a value (smuggling, response splitting), and mod_proxy's `unix:...|` target. */
const REQUEST_LINE = /(?:^|[\r\n])\s*(?:get|post|put|delete|head|options|connect|patch|trace|propfind)\s+\S{1,2000}\s+http\/\d/;
const UNIX_SOCKET = /\bunix:[^|\s]{0,4000}\|/;

function detectProtocol(s: string, add: Add): void {
  if (s.indexOf('http/') >= 0 && REQUEST_LINE.test(s)) add('http-request-in-value', CRITICAL, 1);
  if (s.indexOf('unix:') >= 0 && UNIX_SOCKET.test(s)) add('http-proxy-unix-socket', CRITICAL, 1);
}

// ---- SSRF ----------------------------------------------------------------------

const SCHEME_URL = /(?:^|[\s"'=(<,;])(?:file|gopher|dict|ldap|ldaps|tftp|jar|netdoc|rmi|iiop|corba|nds|jndi):\/{0,2}[^\s]/;
const FILE_TARGET = /file:\/{0,3}(?:localhost\/)?(?:etc|proc|sys|dev|var|root|home|usr|tmp\/\.|boot|windows|[a-z]:\/?(?:windows|boot|inetpub|users\/[^\/]+\/(?:appdata|ntuser))|\.\.)|file:.{0,200}(?:passwd|shadow|win\.ini|boot\.ini|id_rsa|\.env\b)/;
const URL_HOST = /(?:https?|ftp|gopher|dict|ldap):\/\/(?:[^\/@\s]{0,100}@)?(\[[0-9a-f:.]{2,60}\]|[^\s\/:?#"'<>]{1,255})/g;
const CLOUD_METADATA = /\b(?:metadata\.google\.internal|metadata\.azure\.com|instance-data|169\.254\.169\.254|169\.254\.170\.2|100\.100\.100\.200|fd00:ec2::254)\b/;

/** Loopback, private, link-local and metadata hosts, in every spelling a URL parser accepts. */
export function internalHost(host: string): boolean {
  let h = host;
  if (h.startsWith('[')) {
    h = h.slice(1, -1);
    if (h === '::1' || h === '::' || /^0{0,4}(?::0{0,4}){0,6}:0{0,3}1$/.test(h)) return true;
    const mapped = /::ffff:(.+)$/.exec(h);
    if (!mapped) return h.startsWith('fe80:') || h.startsWith('fc') || h.startsWith('fd');
    h = mapped[1];
    if (/^[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(h)) {
      const [a, b] = h.split(':').map((x) => parseInt(x, 16));
      return privateV4([a >> 8, a & 255, b >> 8, b & 255]);
    }
  }
  if (h === 'localhost' || h.endsWith('.localhost') || h === 'localtest.me' || h.endsWith('.localtest.me') || h === 'metadata' || h === 'instance-data') return true;
  if (CLOUD_METADATA.test(h)) return true;
  // `127.0.0.1.nip.io` and friends resolve to the address they spell
  const wildcard = /^(\d{1,3}(?:\.\d{1,3}){3})\.(?:nip\.io|xip\.io|sslip\.io|traefik\.me)$/.exec(h);
  if (wildcard) h = wildcard[1];
  const v4 = parseV4(h);
  return v4 !== null && privateV4(v4);
}

/** inet_aton's forms: dotted with 1-4 parts, each decimal, octal (0...) or hex (0x...). */
function parseV4(h: string): number[] | null {
  if (!/^[0-9a-fx.]{1,40}$/.test(h)) return null;
  const parts = h.split('.');
  if (parts.length > 4 || parts.some((p) => p === '')) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]{0,8}$/.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = p.length === 1 ? 0 : parseInt(p.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = Number(p);
    else return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  const out = [...nums];
  if (out.some((x) => x > 255)) return null;
  const rest = 4 - out.length;
  if (last >= 2 ** (8 * rest)) return null;
  for (let i = rest - 1; i >= 0; i--) out.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return out;
}

function privateV4([a, b]: number[]): boolean {
  return a === 127 || a === 10 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b < 128);
}

/** Remote file inclusion: a URL to a numeric host, or one ending in `?` (the app's suffix cut off). */
const RFI_IP = /^\s*(?:https?|ftps?|file):\/\/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/;
const RFI_QUESTION = /^\s*(?:https?|ftps?):\/\/[^\s?#]{1,2000}\.[a-z0-9]{2,5}\?+\s*$/;

/** An internal host written without a scheme, as a whole value (`localhost/`, `gateway.docker.internal/`). */
const BARE_INTERNAL_HOST =
  /^\s*(?:localhost\d?(?:\.localdomain\d?)?|[a-z0-9-]{1,63}\.docker\.internal|host\.containers\.internal|[a-z0-9.-]{1,200}\.svc(?:\.cluster\.local)?|lvh\.me|localtest\.me|metadata(?:\.google\.internal)?|169\.254\.169\.254|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0)(?::\d{1,5})?(?:\/\S{0,2000})?\s*$/;

function detectSsrf(s: string, add: Add): void {
  if (s.indexOf(':') < 0) return;
  if (RFI_IP.test(s)) add('rfi-numeric-host', CRITICAL, 1);
  if (s.endsWith('?') && RFI_QUESTION.test(s)) add('rfi-trailing-question', CRITICAL, 1);
  const scheme = SCHEME_URL.exec(s);
  if (scheme) {
    // `file://` names a local file: only its sensitive targets are an attack by themselves
    if (!scheme[0].trimStart().replace(/^["'=(<,;]/, '').startsWith('file:') || FILE_TARGET.test(s)) add('ssrf-scheme', CRITICAL, 1);
    else add('ssrf-scheme', WARNING, 2);
  }
  if (s.indexOf('//') < 0) {
    if (/^https?:\d/.test(s)) add('ssrf-internal-host', CRITICAL, 1); // `http:127.0.0.1`, curl's shorthand
    return;
  }
  URL_HOST.lastIndex = 0;
  let n = 0;
  for (let m = URL_HOST.exec(s); m && n < 16; m = URL_HOST.exec(s), n++) {
    if (internalHost(m[1])) {
      add('ssrf-internal-host', CRITICAL, 1);
      return;
    }
  }
}

/** For values of plain characters only (`a.b.c`, `word`): the Java names the fast path must not skip. */
export function plainCode(lower: string): Finding[] {
  const out: Finding[] = [];
  if (lower.length < 8) return out;
  if (lower.indexOf('.') >= 0 && JAVA_CLASS.test(lower)) out.push({ rule: 'java-class', score: CRITICAL, level: 1 });
  if (JAVA_GADGET.test(lower)) out.push({ rule: 'java-gadget', score: CRITICAL, level: 1 });
  if (JAVA_SERIAL.test(lower)) out.push({ rule: 'java-serialized-object', score: CRITICAL, level: 1 });
  if ((lower.indexOf('proto') >= 0 || lower.indexOf('constructor') >= 0) && (PROTO_POLLUTION.test(lower) || /constructor\.constructor/.test(lower))) out.push({ rule: 'node-prototype-pollution', score: CRITICAL, level: 1 });
  return out;
}

const CODE_CHARS = /[(.${<_:%@\[`#*?\\]/;

/** A value that is one base64 token (t:base64Decode): worth decoding when it is long enough to hold code. */
const BASE64 = /^[a-z0-9+\/]{12,4096}={0,2}$/i;

/** The decoded text of a base64 value when it decodes to printable text, else null. */
export function base64Text(value: string): string | null {
  if (value.length % 4 !== 0 || !BASE64.test(value)) return null;
  const text = Buffer.from(value, 'base64').toString('latin1');
  let printable = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 10 || c === 13 || c === 9) printable++;
  }
  return printable >= text.length * 0.95 ? text : null;
}

/** Code injection of every kind this file knows, on the markup view. */
export function detectCode(markup: string): Finding[] {
  // literal prefilter: code needs one of these characters; prose without them can only name a Java gadget
  if (!CODE_CHARS.test(markup)) {
    const plain = plainCode(markup);
    if (markup.length < 2300 && BARE_INTERNAL_HOST.test(markup)) plain.push({ rule: 'ssrf-internal-host', score: CRITICAL, level: 1 });
    return plain;
  }
  const out: Finding[] = [];
  const add: Add = (rule, score, level) => out.push({ rule, score, level });
  detectPhp(markup, add);
  detectJava(markup, add);
  detectRuntimes(markup, add);
  detectTemplates(markup, add);
  detectQueries(markup, add);
  detectSqlFragments(markup, add);
  detectProtocol(markup, add);
  detectSsrf(markup, add);
  if (markup.length < 2300 && BARE_INTERNAL_HOST.test(markup)) add('ssrf-internal-host', CRITICAL, 1);
  return out;
}

