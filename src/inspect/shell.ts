// Command injection detector: a shell tokenizer (Unix shells, Windows cmd,
// PowerShell). The value is split into commands at the separators a shell
// honours (`;` `|` `&` newline, backticks, `$(`, `<(`, `{`), and the word in
// command position is normalized the way shells read it (quotes, `\`, `^`,
// `$@`, `${IFS}` and empty expansions removed; paths reduced to the program
// name; `sudo`/`env`/assignments skipped), then looked up in command lists.
// One left-to-right pass, bounded work per word, so linear in the input.

import { CRITICAL, ERROR, WARNING, type Finding } from './types.js';

const list = (s: string) => new Set(s.split(/\s+/).filter(Boolean));

/** Programs that are not English words: seen in command position, they are commands. */
const UNIX_STRONG = list(`
  wget curl nc ncat netcat socat bash sh zsh ksh csh tcsh dash ash fish busybox python python2 python3 perl ruby php lua nodejs irb telnet nslookup whoami uname ifconfig ip6tables iptables netstat lsof ps pkill killall printenv passwd useradd usermod userdel adduser groupadd chmod chown chgrp chattr chroot crontab base64 base32 xxd hexdump ls pwd id mkfifo mknod nohup setsid xterm tftp ftp sftp scp rsync ssh sshpass gcc c89 c99 clang g++ cmake gdb strace ltrace ldd nm objdump readelf awk gawk mawk nawk sed grep egrep fgrep xargs dd tar gzip gunzip bzip2 bunzip2 xz unxz zip unzip 7z 7za zcat bzcat xzcat lz4 zstd cpio openssl gpg mktemp sudo su doas pkexec uniq cut rev fold fmt column comm diff cmp strings tac vi vim nvim nano emacs pico dmesg journalctl systemctl sysctl modprobe insmod lsmod rmmod umount losetup fdisk blkid lsblk df du uptime lastlog finger hostname hostid arch lscpu lspci lsusb dmidecode getent getcap setcap getfacl setfacl chpasswd visudo apt apt-get aptitude dpkg rpm yum dnf zypper pacman apk snap flatpak pip pip3 gem npm npx yarn cargo composer docker kubectl podman crictl ctr helm ansible ansible-playbook ansible-galaxy ansible-doc terraform aws gcloud az git svn hg mysql mysqldump psql sqlite3 mongo mongosh redis-cli ldapsearch smbclient rpcclient nmap masscan hping3 ping6 traceroute tracepath mtr arp dig whois lynx links elinks w3m aria2c axel lwp-download lwp-request jq yq timeout flock cpulimit ionice taskset stdbuf unbuffer tmux byobu expect tclsh wish jrunscript jjs javac ghc ghci runghc cobc nasm latex pdflatex lualatex luatex tex dvips gs magick ffmpeg exiftool zsoelim soelim troff nroff groff locate mlocate updatedb whereis readlink realpath basename dirname ln cp mv rm rmdir mkdir csplit iconv uuencode uudecode mailx mutt sendmail atq atrm anacron mesg tput chsh chfn newgrp runuser capsh unshare nsenter bpftrace perf valgrind busctl dbus-send loginctl machinectl networkctl resolvectl timedatectl hostnamectl ethtool iw iwconfig nmcli dhclient ncftp lftp curlftpfs sshfs rclone restic borg certbot knife chef puppet facter salt-call genisoimage mkisofs bsdtar bsdcat pigz pbzip2 lzma lzcat lzip rar unrar arj lha zsh5 rbash rksh rzsh tclsh8 wish8 pwsh powershell cmd`);
/** Programs whose names are also English words (or common names): they need a shell-looking argument. */
const UNIX_WORDS = list(`
  node ss od cc make tee ar env printf wc sort tr nl paste head tail less more ed ex view service mount free w who last go route host fetch bc dc expr seq yes watch nice renice script screen java as ld convert man info apropos whatis find which type file stat touch install shred truncate split join mail at batch logger wall write stty reset clear sg bridge tc
  cat echo sleep ping rm kill touch grep exec eval dig cd top time date test read set export alias source unset trap wait
  more less head tail sort find file type which look split join paste tee watch yes host last write mail fold comm cut
  view make install patch link unlink shred strings sum cmp diff expand unexpand nice at free du df kill wall script
  screen man info who w whois sed tar zip git go node php ruby perl python java docker pip gem make`);
/** Windows programs that are not English words. */
const WIN_STRONG = list(`
  cmd regedit regsvr32 rundll32 mshta cscript wscript msiexec msbuild installutil regasm regsvcs certutil bitsadmin schtasks tasklist
  taskkill wmic whoami systeminfo ipconfig netsh netstat nslookup bcdedit vssadmin wevtutil forfiles findstr xcopy robocopy icacls cacls
  takeown setx runas qwinsta rwinsta quser cmdkey klist nltest dsquery csvde ldifde ntdsutil esentutl extrac32 makecab diskpart chkdsk
  powershell pwsh net1 attrib doskey ftype mkdir rmdir hostname`);
/** Windows built-ins that are also English words: they need a shell-looking argument. */
const WIN_WORDS = list('dir type copy del erase move ren rename md rd net start call exit set echo find more sort where query print mode label title color tree replace format expand pause shift goto prompt vol ver route arp comp fc at sc assoc subst reg shutdown logoff');
/** PowerShell cmdlet verbs and the nouns an attacker reaches for; plus the aliases of those cmdlets. */
const PS_VERBS = list(
  'get set new remove invoke start stop add clear copy move out write read convertto convertfrom import export select where foreach test enable disable register unregister resolve format measure send wait restart update install uninstall compress expand rename mount connect enter find grant unblock show save',
);
const PS_NOUNS = list(`
  childitem content process service item itemproperty wmiobject ciminstance expression webrequest restmethod command acl localuser
  localgroupmember host object variable alias location date filehash netadapter nettcpconnection mppreference executionpolicy psdrive
  eventlog winevent scheduledtask credential module clipboard computerinfo hotfix netipaddress smbshare aduser adcomputer adgroup
  adgroupmember string member history job psreadlineoption securestring bitstransfer archive psession pssession wmimethod cimmethod
  dnsclientcache nettcpconnection tokenprivilege pscredential printer volume disk partition bitlockervolume firewallrule
  netfirewallrule netfirewallprofile applockerpolicy authenticodesignature randomness random`);
const PS_ALIASES = list('iex iwr irm gci gcm gwmi sal saps spps sls gp gpv ni ri rni mi ci cpi sc ac wget curl icm ipmo ise');

/** Command prefixes that run the next word as the command. */
const PREFIXES = list('sudo doas env nohup exec command builtin time nice ionice timeout stdbuf unbuffer busybox xargs setsid then do else eval strace ltrace chroot runuser nsenter unshare watch');

const SENSITIVE_ARG = /(?:^|\/)(?:passwd|shadow|group|hosts|sudoers|id_rsa|authorized_keys|\.bash_history|\.ssh|environ|cmdline|win\.ini|boot\.ini|system32)$/;

/** Short program names that are commands even alone (`;id`, `|ls`); other one- and two-letter words are not. */
const SHORT_OK = list('id ls nc sh ps su df du rm vi w');

/** An option (`-x`, `--long`, `/c`). */
function optionArg(word: string): boolean {
  return /^(?:--?[a-z0-9]|\/[a-z?]$)/.test(word);
}

/** A path, a redirect, a variable, a sensitive file: an argument only a command line has. */
function pathArg(word: string): boolean {
  if (word.length === 0 || word.indexOf('://') >= 0) return false;
  const c = word.charCodeAt(0);
  if (c === 47 /* / */ || c === 126 /* ~ */ || c === 36 /* $ */ || c === 60 || c === 62 || c === 42 /* * */) return word.length > 1 || c === 42 || c === 47;
  if (c === 46 /* . */ && word.length > 1) return true;
  if (/^[0-9]?>/.test(word) || /^[a-z]:\\/.test(word)) return true;
  return SENSITIVE_ARG.test(word) || (word.indexOf('/') > 0 && /^[a-z0-9._-]+\/[a-z0-9._\/-]*$/.test(word) && !/\d\/\d/.test(word));
}

/** How strongly an argument says "this is a command line", not prose. */
function shellArg(word: string): boolean {
  if (word.length === 0) return false;
  const c = word.charCodeAt(0);
  // -opt /path ~ $var .file ./x `$(` <redirect >redirect *glob {brace} numbers-with-units are prose
  if (c === 45 /* - */ || c === 47 /* / */ || c === 126 /* ~ */ || c === 36 /* $ */ || c === 60 || c === 62 || c === 42 || c === 123) return true;
  if (c === 46 /* . */ && word.length > 1) return true;
  if (word.indexOf('/') > 0 || word.indexOf('\\') > 0 || word.indexOf('=') > 0) return true;
  if (/^[0-9]+>|^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(?::[0-9]+)?$|^[a-z0-9-]+\.(?:com|net|org|io|sh|ru|cn|tk|xyz|txt|sh|php|py|pl|gz|tgz|zip|exe|bat|ps1|dll)$/.test(word)) return true;
  return SENSITIVE_ARG.test(word);
}

interface Cmd {
  /** The normalized program name. */
  name: string;
  /** Raw text of the word before normalization (Windows paths keep `\`). */
  raw: string;
  args: string[];
  /** The command runs in a substitution (`$(...)`, a backtick glued to a value). */
  subst: boolean;
  /** What came before: 'start' (value start), 'strong' (`;` `|` newline `` ` `` `$(` `&&` `||`), 'amp' (a lone `&`), 'paren' (`(` `{`), 'span' (a Markdown code span's opening backtick). */
  after: 'start' | 'strong' | 'amp' | 'paren' | 'span';
}

const MAX_COMMANDS = 256;
const MAX_WORD = 256;

const PLAIN_WORD = /^[a-z0-9_-]{1,64}$/;

/** Shell word normalization: quotes, escapes and empty expansions go, as the shell would drop them. */
function normWord(raw: string): string {
  let w = raw;
  if (PLAIN_WORD.test(w)) return w;
  if (w.indexOf('$') >= 0) w = w.replace(/\$\{ifs\}|\$ifs\b|\$\{[a-z_]*\}|\$[@*#?!-]|\$[0-9]/g, '');
  if (/["'^\\`]/.test(w)) {
    // a Windows path keeps its separators to be cut at the last one
    if (/^[a-z]:\\|^\\\\/.test(w)) w = w.replace(/["'^]/g, '');
    else w = w.replace(/["'^\\`]/g, '');
  }
  // `{a,b}` brace expansion and `[x]` globs spell their first choice
  if (w.indexOf('[') >= 0) w = w.replace(/\[([a-z0-9])[^\]]{0,20}\]/g, '$1');
  const cut = Math.max(w.lastIndexOf('/'), w.lastIndexOf('\\'));
  if (cut >= 0 && cut < w.length - 1) w = w.slice(cut + 1);
  if (w.endsWith('.exe') || w.endsWith('.com')) w = w.slice(0, -4);
  return w;
}

const QUOTES = /["'\\^]/;

function isProgram(name: string): boolean {
  return UNIX_STRONG.has(name) || WIN_STRONG.has(name) || UNIX_WORDS.has(name) || WIN_WORDS.has(name) || PS_ALIASES.has(name);
}

/** Split a (lower-cased, URL-decoded) value into the commands a shell would run. */
export function shellCommands(s: string, single = false): Cmd[] {
  const out: Cmd[] = [];
  const n = s.length;
  let i = 0;
  let after: Cmd['after'] = 'start';
  let cur: Cmd | null = null;
  let first = true;
  let ticks = 0;
  let subst = false;
  // inside a Markdown code span or fence, separators chain commands of an example, not of this request
  let inSpan = false;
  const sep = (): Cmd['after'] => (inSpan ? 'span' : 'strong');
  while (i < n && out.length < MAX_COMMANDS) {
    const c = s.charCodeAt(i);
    // separators
    if (c === 96 /* ` */ && s.startsWith('```', i)) {
      // a Markdown fence: what follows is a code block's language tag and lines, not a substitution
      cur = null;
      after = 'span';
      inSpan = !inSpan;
      i += 3;
      while (i < n && s.charCodeAt(i) === 96) i++;
      continue;
    }
    if (c === 96 /* ` */) {
      // a backtick after a space opens a Markdown code span (prose about a command), glued to a word it substitutes
      const prev = i > 0 ? s.charCodeAt(i - 1) : 0;
      const close = s.indexOf('`', i + 1);
      const span = (prev === 32 || prev === 40 || prev === 10) && (close < 0 || close === n - 1 || /[\s.,:;)!?]/.test(s[close + 1]));
      cur = null;
      after = span && ticks % 2 === 0 ? 'span' : 'strong';
      inSpan = after === 'span';
      subst = !inSpan && ticks % 2 === 0;
      ticks++;
      i++;
      continue;
    }
    if (c === 59 /* ; */ || c === 10 || c === 13) {
      cur = null;
      after = sep();
      i++;
      continue;
    }
    if (c === 124 /* | */) {
      cur = null;
      after = sep();
      i += s.charCodeAt(i + 1) === 124 ? 2 : 1;
      continue;
    }
    if (c === 38 /* & */) {
      cur = null;
      after = inSpan ? 'span' : s.charCodeAt(i + 1) === 38 ? 'strong' : 'amp';
      i += s.charCodeAt(i + 1) === 38 ? 2 : 1;
      continue;
    }
    if (c === 36 /* $ */ && s.charCodeAt(i + 1) === 40 /* ( */) {
      cur = null;
      after = 'strong';
      subst = s.charCodeAt(i + 2) !== 40;
      i += s.charCodeAt(i + 2) === 40 ? 3 : 2;
      continue;
    }
    if ((c === 60 || c === 62) && s.charCodeAt(i + 1) === 40) {
      // <( >( process substitution
      cur = null;
      after = 'strong';
      subst = true;
      i += 2;
      continue;
    }
    if (c === 40 /* ( */ || c === 123 /* { */ || c === 41 || c === 125) {
      if (c === 40 || c === 123) {
        cur = null;
        after = 'paren';
      }
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 11 || c === 12 || c === 44 /* , (t:cmdLine) */) {
      i++;
      continue;
    }
    // a word: up to whitespace or a separator; quotes are part of it (normalized later)
    const start = i;
    while (i < n && i - start < MAX_WORD) {
      const d = s.charCodeAt(i);
      if (d === 32 || d === 9 || d === 10 || d === 13 || d === 59 || d === 124 || d === 38 || d === 96 || d === 40 || d === 41 || d === 123 || d === 125 || d === 44) break;
      if (d === 36 && s.charCodeAt(i + 1) === 40) break;
      // `$IFS`-style spacing: `${IFS}` and `$IFS$9` end a word
      if (d === 36 && i > start && (s.startsWith('${ifs}', i) || s.startsWith('$ifs', i))) break;
      i++;
    }
    if (i - start >= MAX_WORD) while (i < n && s.charCodeAt(i) > 32) i++;
    let raw = s.slice(start, i);
    if (raw.startsWith('${ifs}')) raw = raw.slice(6);
    else if (raw.startsWith('$ifs')) raw = raw.slice(4).replace(/^\$[0-9]/, '');
    if (!raw) continue;
    if (cur === null) {
      const name = normWord(raw);
      // assignments and prefixes keep the command position open
      if (/^[a-z_][a-z0-9_]*=/.test(raw) || PREFIXES.has(name) || name === '') {
        if (first) first = false;
        continue;
      }
      cur = { name, raw, args: [], after, subst };
      subst = false;
      // without separators only this first command can matter: stop unless it names a program
      if (single && !isProgram(name)) return [];
      out.push(cur);
      first = false;
    } else if (cur.args.length < 8) cur.args.push(QUOTES.test(raw) ? raw.replace(/["'\\^]/g, '') : raw);
    else if (single) break; // no separator in the value: nothing after the first command's arguments matters
  }
  return out;
}

/** `evil.example.com`, `10.0.0.1:4444`: a host a network tool is pointed at. */
const HOST_ARG = /^(?:(?:[a-z0-9-]{1,63}\.){1,8}(?:com|org|net|io|biz|info|ru|cn|tk|xyz|top|me|co|de|uk|sh|site|online)|[0-9]{1,3}(?:\.[0-9]{1,3}){3})(?::[0-9]{1,5})?$/;
const FORK_BOMB = /([a-z_:][a-z0-9_]{0,30})\s*\(\s*\)\s*\{\s*\1\s*\|\s*\1\s*&?\s*\}?/;
const WIN_FOR = /\bfor\s+(?:\/[dflr]\b[^%\n]{0,200})?%%?[^\s%]{1,20}\s+in\s*\(/;
const WIN_IF_COMPARE =
  /\bif\s+(?:\/i\s+)?(?:not\s+)?\S{1,60}?\s*(?:==|\s(?:equ|neq|lss|leq|gtr|geq)\s)\s*\S{0,60}\s+\(?\s*(?:echo|goto|exit|cmd|call|set|start|del|copy|type|dir|rem|pause|move|ren|md|rd)\b/;
/** `/etc/pas[s]wd`, `/bi[n]/bash`: a glob in a system path. */
const GLOB_PATH = /\/(?:etc|bin|sbin|usr|proc|dev|tmp|var|home|root|lib)\/[a-z0-9?*\/]{0,40}(?:\[!?[a-z0-9-]{1,20}\]|\?)|\/\[[a-z0-9!-]{1,20}\][a-z]{0,10}\/(?:bash|sh|passwd|shadow)|\/(?:etc|bin|usr)\/[a-z]{0,10}\[[a-z0-9!-]{1,20}\]/;
const WIN_IF = /\bif\s+(?:\/i\s+)?(?:not\s+)?(?:exist|defined|errorlevel|cmdextversion|%[a-z_]{1,40}%\s*(?:equ|neq|lss|leq|gtr|geq|==))\s/;
const WIN_SET = /(?:^|[&|;(\s])set\s+\/[ap]\s|%[a-z_]+:~-?\d+(?:,-?\d+)?%|%comspec%|%systemroot%|%windir%/;
const WIN_CMD = /\bcmd(?:\.exe)?\s+\/[ckr]\b|\bstart\s+\/b\b|\bpowershell(?:\.exe)?\s+-|\bpwsh(?:\.exe)?\s+-/;
const PS_SYNTAX =
  /\[(?:system\.)?(?:convert|text\.encoding|io\.(?:file|compression)|net\.webclient|reflection\.assembly|diagnostics\.process|environment|runtime\.interopservices)\]::|new-object\s+(?:-typename\s+)?(?:system\.)?net\.webclient|\.downloadstring\s*\(|\.downloadfile\s*\(|-(?:enc|encodedcommand|noprofile|nop|windowstyle|executionpolicy|ep)\s+[a-z0-9+\/=]|\$env:[a-z_]+|\$psversiontable|\$executioncontext/;
const PS_CMDLET = /\b([a-z]+)-([a-z]+)\b/g;
const UNIX_SPECIAL = /\/dev\/(?:tcp|udp)\/|<<<|\b[0-9]?>&\s*[0-9]|>\s*\/dev\/null|\$\{[a-z_]+(?::?[-=+?][^}]{0,40}|\/\/?[^}]{0,40}|:[0-9]+(?::[0-9]+)?)\}|\$\(\(|\bexport\s+[a-z_]+=\S|\$\{?ifs\b/;

export function detectShell(decoded: string): Finding[] {
  const out: Finding[] = [];
  const add = (rule: string, score: number, level: Finding['level']) => out.push({ rule, score, level });
  let s = decoded.toLowerCase();
  // `data:image/png;base64,...`: the `;` of a data URI separates its parameters, not commands
  if (s.indexOf(';base64,') >= 0) s = s.replace(/data:[a-z0-9.+\/-]{1,100};base64,/g, 'data:,');
  // literal prefilter: no separator, no Windows/PowerShell syntax marker -> only the value-start command check
  // separators that chain commands; brackets alone (`(`, `{`) leave only the value's first command to check
  const hasSep = /[;|&`\n\r]|\$\(|[<>]\(/.test(s);
  const hasWin = s.indexOf('%') >= 0 || s.indexOf('/') >= 0 || s.indexOf('-') >= 0 || s.indexOf('[') >= 0;
  if (!hasSep && !hasWin && s.indexOf(' ') < 0) return out;

  const cmds = shellCommands(s, !hasSep);
  let substituted = false;
  let best: 0 | 1 | 2 | 3 | 4 | 5 = 0; // 1 chained command, 2 value-start command line, 3 after a lone `&` or a bracket, 4 in a Markdown code span
  for (const c of cmds) {
    const name = c.name;
    const strong = UNIX_STRONG.has(name) || WIN_STRONG.has(name);
    const word = !strong && (UNIX_WORDS.has(name) || WIN_WORDS.has(name));
    if (!strong && !word) continue;
    const paths = c.args.some(pathArg);
    const options = c.args.some(optionArg);
    const urls = c.args.some((a) => a.indexOf('://') > 0 || (strong && HOST_ARG.test(a)));
    const bare = c.args.length === 0 && (name.length > 2 || SHORT_OK.has(name));
    let hit = false;
    if (c.after === 'strong') hit = strong ? bare || options || paths || urls || c.args.length > 0 : paths || (options && c.args.length > 1) || (c.subst && (c.args.length > 0 || bare));
    else if (c.after === 'paren') hit = (strong && (paths || options || urls)) || (word && paths);
    else if (c.after === 'amp') hit = (strong && (bare || paths || options || urls)) || (word && paths);
    else if (c.after === 'span') hit = (strong && (paths || urls)) || (word && paths);
    else {
      hit = (strong && (paths || urls)) || (word && paths);
      if (!hit && strong && options) {
        // `rm -rf meme poster`: options alone at a value's start read as prose as often as not
        if (best === 0) best = 5;
        continue;
      }
    }
    if (!hit) continue;
    const rank = c.after === 'strong' ? 1 : c.after === 'paren' || c.after === 'amp' ? 3 : c.after === 'span' ? 4 : 2;
    if (best === 0 || best === 5 || rank < best) best = rank as 0 | 1 | 2 | 3 | 4 | 5;
    if (best === 1) {
      if (c.subst) substituted = true;
      break;
    }
  }
  if (best === 1) add(substituted ? 'cmdi-substitution' : 'cmdi-command-chain', CRITICAL, 1);
  else if (best === 2) add('cmdi-command-line', s.length < 160 ? CRITICAL : WARNING, s.length < 160 ? 1 : 2);
  else if (best === 3) add('cmdi-command-chain-amp', CRITICAL, 2);
  else if (best === 4) add('cmdi-code-span', CRITICAL, 3);
  else if (best === 5) add('cmdi-command-options', WARNING, 2);

  if (hasSep && UNIX_SPECIAL.test(s)) add('cmdi-shell-syntax', CRITICAL, 1);
  if (s.indexOf('(') >= 0 && FORK_BOMB.test(s)) add('cmdi-fork-bomb', CRITICAL, 1);
  if (s.indexOf('for') >= 0 && WIN_FOR.test(s)) add('cmdi-windows-for', CRITICAL, 1);
  if (s.indexOf('if ') >= 0 && (WIN_IF.test(s) || WIN_IF_COMPARE.test(s))) add('cmdi-windows-if', CRITICAL, 1);
  if (s.indexOf('/') >= 0 && (s.indexOf('[') >= 0 || s.indexOf('?') >= 0) && GLOB_PATH.test(s)) add('cmdi-glob-path', CRITICAL, 1);
  if ((s.indexOf('set') >= 0 || s.indexOf('%') >= 0) && WIN_SET.test(s)) add('cmdi-windows-variable', CRITICAL, 1);
  if ((s.indexOf('cmd') >= 0 || s.indexOf('start') >= 0 || s.indexOf('powershell') >= 0 || s.indexOf('pwsh') >= 0) && WIN_CMD.test(s)) add('cmdi-windows-shell', CRITICAL, 1);
  if ((s.indexOf('::') >= 0 || s.indexOf('-') >= 0 || s.indexOf('$') >= 0 || s.indexOf('.download') >= 0) && PS_SYNTAX.test(s)) add('cmdi-powershell', CRITICAL, 1);
  if (s.indexOf('-') >= 0 && s.length >= 8) {
    PS_CMDLET.lastIndex = 0;
    let k = 0;
    for (let m = PS_CMDLET.exec(s); m && k < 64; m = PS_CMDLET.exec(s), k++) {
      if (PS_VERBS.has(m[1]) && PS_NOUNS.has(m[2])) {
        add('cmdi-powershell-cmdlet', CRITICAL, 1);
        break;
      }
    }
  }
  for (const c of cmds) {
    if (PS_ALIASES.has(c.name) && c.after !== 'start' && (c.args.length === 0 || c.args.some(shellArg) || c.args.some((a) => a.startsWith('('))) && !UNIX_STRONG.has(c.name)) {
      add('cmdi-powershell-alias', ERROR, 2);
      break;
    }
  }
  return out;
}

