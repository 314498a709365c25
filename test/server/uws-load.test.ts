import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainLoadFailure, loadUws } from '../../src/server/uws.js';

/** The start-up check's message names the real cause: a missing binary for this Node.js, or too old a glibc. */

const shipping = (...abis: string[]) => {
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-uws-'));
  for (const abi of abis) writeFileSync(join(dir, `uws_${process.platform}_${process.arch}_${abi}.node`), '');
  return dir;
};

t.test('the binding loads on this Node.js', async (t) => {
  t.type(loadUws().App, 'function');
});

t.test('no binary for this ABI: says so, and lists the Node.js versions the build has', async (t) => {
  const dir = shipping('115', '127');
  const text = explainLoadFailure(new Error('This version of uWS.js supports only Node.js ...\nRequire stack:\n- /x/uws.js'), dir, '147', '2.36');
  t.match(text, `cause: the installed build has no binary for this Node.js (no uws_${process.platform}_${process.arch}_147.node; it ships Node 20, 22)`);
  t.notMatch(text, 'Require stack');
  t.match(text, 'ABI 147');
});

t.test('a binary that needs a newer glibc: names both versions', async (t) => {
  const dir = shipping('137');
  const err = new Error(`/x/uws_linux_x64_137.node: /lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.38' not found (required by /x/uws_linux_x64_137.node)`);
  t.match(explainLoadFailure(err, dir, '137', '2.36'), 'needs glibc 2.38 or newer; this system has 2.36');
});

t.test('anything else: the first line of the error, not the last', async (t) => {
  const dir = shipping('115');
  t.match(explainLoadFailure(new Error('boom\nRequire stack:\n- /x'), dir, '115', '2.36'), 'cause: boom');
});
