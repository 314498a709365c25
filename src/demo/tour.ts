/**
 * The banner's tour: one command per feature of the embedded demo, each
 * followed by what it shows. Every URL is single-quoted so the lines paste
 * into sh, bash and zsh alike (zsh globs an unquoted `?`).
 */
export function tourLines(base: string, apiKey: string): string[] {
  const key = `-H 'x-api-key: ${apiKey}'`;
  return [
    '  the tour (each line pastes into a shell):',
    '    a public route; the upstream echoes what the gateway forwarded:',
    `      curl -i '${base}/api/hello?name=ztgate'`,
    '    a route for the demo API key: 401 without it, 200 with it (the upstream sees x-authenticated-subject: demo-partner):',
    `      curl -i '${base}/key/hello'`,
    `      curl -i ${key} '${base}/key/hello'`,
    '    a route for JWTs of the demo issuer (ES256, scope demo.read); /token mints one valid for 15 minutes:',
    `      TOKEN="$(curl -s '${base}/token')"; curl -i -H "Authorization: Bearer $TOKEN" '${base}/jwt/hello'`,
    '    a rate limit of 1/s per client with a burst of 3, RateLimit headers on every answer: 200 200 200 429 429',
    '    (processes share their counts by gossip, a few ms behind: with several, a burst may let one more through)',
    `      for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{http_code} ' '${base}/limited/hello'; done; echo`,
    '    attack inspection: a SQL injection in the query is refused with 403',
    `      curl -i -G --data-urlencode "q=1' OR '1'='1" '${base}/search'`,
    '    personal data: masked for an anonymous caller, shown in full to the demo consumer',
    `      curl -s '${base}/records'`,
    `      curl -s ${key} '${base}/key/records'`,
  ];
}
