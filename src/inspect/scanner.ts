// Security scanners and attack tools that announce themselves in User-Agent.
// One lower-cased indexOf pass per name over a single header value.

/** Tool names as they appear in their default User-Agent strings. */
const SCANNERS = [
  'sqlmap', 'nikto', 'nmap', 'masscan', 'zgrab', 'nuclei', 'wpscan', 'dirbuster', 'gobuster', 'dirb/', 'feroxbuster', 'ffuf', 'wfuzz',
  'acunetix', 'netsparker', 'nessus', 'openvas', 'w3af', 'arachni', 'skipfish', 'havij', 'commix', 'fimap', 'jbrofuzz', 'whatweb',
  'whatwaf', 'webshag', 'webbandit', 'libwhisker', 'morfeus', 'jorgee', 'sysscan', 'nettacker', 'detectify', 'hexometer',
  'tsunamisecurityscanner', 'bfac', 'betabot', 'bewica-security-scan', 'fuzz faster', 'wprecon', 'sitelockspider', 'securityagent',
  'netlab360', 'mozlila', 'mozilla/5.g', 'qualys', 'burpcollaborator', 'interactsh', 'xsstrike', 'dalfox', 'brutus', 'hydra',
  'medusa', 'paros', 'vega/', 'zmeu', 'grabber', 'pangolin', 'sqlninja', 'bsqlbf', 'absinthe', 'metis', 'webinspect', 'appscan',
  'zap/', 'nimbostratus', 'struts-pwn', 'log4shell', 'cgichk', 'n-stealth', 'nsauditor', 'crowdstrike', 'probely', 'intruder.io',
];

/** The scanner a User-Agent names, or null. */
export function scannerName(userAgent: string): string | null {
  const ua = userAgent.toLowerCase();
  for (const s of SCANNERS) if (ua.indexOf(s) >= 0) return s;
  return null;
}
