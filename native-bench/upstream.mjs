#!/usr/bin/env node
// Static upstream for the native comparison bench.
//
//   node native-bench/upstream.mjs PORT
//
// Listens on 127.0.0.1:PORT (uWebSockets.js) and answers every request, any
// method and path, with 200, `Content-Type: text/plain` and the same fixed
// 100-byte body (BODY below); paths under /pii/ and /full/ get instead the
// ~4 KB JSON of customer records with personal data (pii-body.mjs) that the
// masked and full scenarios run through the protect stage.
// Prints `ready` on stdout once listening.
// Exits on SIGINT/SIGTERM or when its stdin-less parent goes away.
import uWS from 'uWebSockets.js';
import { PII_BODY } from './pii-body.mjs';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('usage: node native-bench/upstream.mjs PORT\n');
  process.exit(2);
}

// Exactly 100 bytes of ASCII: a sentence padded with '.' and a final newline.
const TEXT = 'ztgate native-bench upstream: fixed 100-byte text/plain body ';
const BODY = Buffer.from(TEXT.padEnd(99, '.') + '\n', 'latin1');
if (BODY.length !== 100) throw new Error(`body is ${BODY.length} bytes, want 100`);

let listenSocket = null;

const app = uWS.App();
const pii = (res) => {
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end(PII_BODY);
  });
};
app.any('/pii/*', pii);
app.any('/full/*', pii);
app.any('/*', (res) => {
  // Nothing async happens here, so no onAborted handler is needed.
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'text/plain').end(BODY);
  });
});

app.listen('127.0.0.1', port, (sock) => {
  if (!sock) {
    process.stderr.write(`upstream: cannot listen on 127.0.0.1:${port}\n`);
    process.exit(1);
  }
  listenSocket = sock;
  process.stdout.write('ready\n');
});

function stop() {
  if (listenSocket) {
    uWS.us_listen_socket_close(listenSocket);
    listenSocket = null;
  }
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
