import t from 'tap';
import { networkOf } from '../../src/observe/anomaly/network.js';
import { Ewma, decayFor } from '../../src/observe/anomaly/ewma.js';
import { RegionTable, UNKNOWN_REGION } from '../../src/observe/anomaly/regions.js';

t.test('client networks: /24 for IPv4, /48 for IPv6, mapped IPv4 as IPv4, anything else none', async (t) => {
  t.equal(networkOf('203.0.113.77'), '203.0.113.0/24');
  t.equal(networkOf('10.0.0.1'), '10.0.0.0/24');
  t.equal(networkOf('2001:db8:1:2::7'), '2001:db8:1::/48');
  t.equal(networkOf('2001:0db8:0001:ffff:0:0:0:1'), '2001:db8:1::/48');
  t.equal(networkOf('::1'), '0:0:0::/48');
  t.equal(networkOf('2001:db8::'), '2001:db8:0::/48');
  t.equal(networkOf('fe80::1%eth0'), 'fe80:0:0::/48');
  t.equal(networkOf('::ffff:198.51.100.9'), '198.51.100.0/24');
  t.equal(networkOf('::ffff:c633:6409'), '198.51.100.0/24', 'mapped, written in hex');
  t.equal(networkOf('64:ff9b::192.0.2.1'), '64:ff9b:0::/48', 'NAT64 prefix: an IPv6 network');
  t.equal(networkOf('255.255.255.255'), '255.255.255.0/24');
  t.equal(networkOf('0.0.0.0'), '0.0.0.0/24');
  for (const bad of ['', 'localhost', '1.2.3', '1.2.3.4.5', '999.1.1.1', '256.1.1.1', '01.2.3.4', '1.2.3.04', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4\n', '1.2.3.1000', '１.2.3.4', ':::', 'a'.repeat(10_000), '1.2.3.4/24', '::ffff:1.2.3']) {
    t.equal(networkOf(bad), '', `not an address: ${JSON.stringify(bad.slice(0, 20))}`);
  }
});

t.test('EWMA: bias-corrected from the first window, halves a window\'s weight per half-life', async (t) => {
  const keep = decayFor(1000, 10_000);
  const e = new Ewma();
  t.notOk(e.known);
  t.equal(e.value, 0);
  e.add(10, keep);
  t.equal(e.value, 10, 'one window: its own value, no climb from zero');
  for (let i = 0; i < 100; i++) e.add(10, keep);
  t.ok(Math.abs(e.value - 10) < 1e-9, 'steady input: steady average');
  e.addZeros(10, keep);
  t.ok(Math.abs(e.value - 5) < 0.2, `ten idle windows (one half-life) halve it: ${e.value}`);
  const f = new Ewma();
  f.add(10, keep);
  for (let i = 0; i < 10; i++) f.add(0, keep);
  const g = new Ewma();
  g.add(10, keep);
  g.addZeros(10, keep);
  t.ok(Math.abs(f.value - g.value) < 1e-12, 'addZeros(n) is n zero windows');
});

t.test('regions: first match in config order; exact whether cached per network or per address', async (t) => {
  const coarse = new RegionTable([
    { name: 'office', cidrs: ['10.0.0.0/8'] },
    { name: 'lab', cidrs: ['10.9.0.0/16'] },
    { name: 'eu', cidrs: ['2001:db8:e0::/44'] },
  ]);
  t.equal(coarse.regionOf('10.9.1.1', networkOf('10.9.1.1')), 'office', 'the first region listed wins');
  t.equal(coarse.regionOf('2001:db8:ef:1::1', networkOf('2001:db8:ef:1::1')), 'eu');
  t.equal(coarse.regionOf('192.0.2.1', networkOf('192.0.2.1')), UNKNOWN_REGION);
  // A /28 is finer than a client network: the answer may differ inside one /24, so it is cached per address.
  const fine = new RegionTable([{ name: 'dc', cidrs: ['192.0.2.0/28'] }]);
  t.equal(fine.regionOf('192.0.2.5', '192.0.2.0/24'), 'dc');
  t.equal(fine.regionOf('192.0.2.200', '192.0.2.0/24'), UNKNOWN_REGION);
  t.equal(fine.regionOf('192.0.2.5', '192.0.2.0/24'), 'dc', 'cached answers stay exact');
});
