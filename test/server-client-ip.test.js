// Client address: trusted-proxy CIDRs, X-Forwarded-For read from the right,
// IPv6 and IPv4-mapped addresses, garbage. Allowed and denied cases.
import t from 'tap';
import {
  TrustedProxies, clientIp, parseCidr, parseIp, normalizeIp, rateLimitKey,
} from '../dist/server/client-ip.js';

t.test('CIDR parsing: allowed forms', async (t) => {
  const ok = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    [' 192.168.1.0/24 ', '192.168.1.0/24'],
    ['127.0.0.1', '127.0.0.1/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['fd00::/8', 'fd00::/8'],
    ['2001:DB8:0:0::/64', '2001:db8::/64'],
    ['::1', '::1/128'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:127.0.0.1', '127.0.0.1/32'],
  ];
  for (const [input, text] of ok) t.equal(parseCidr(input).text, text, `${input} → ${text}`);
});

t.test('CIDR parsing: denied forms name the entry and the problem', async (t) => {
  const bad = [
    ['10.0.0.0/33', /prefix length/],
    ['fd00::/129', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
    ['10.0.0.1/8', /did you mean the range 10\.0\.0\.0\/8 or the single address 10\.0\.0\.1/],
    ['10.0.0', /not an IP address/],
    ['300.0.0.0/8', /not an IP address/],
    ['localhost', /not an IP address/],
    ['', /not an IP address/],
    ['*', /not an IP address/],
    ['fe80::1%eth0/64', /not an IP address/],
    ['::ffff:10.0.0.0/64', /IPv4-mapped range shorter than \/96/],
  ];
  for (const [input, message] of bad) {
    t.throws(() => parseCidr(input), { exitCode: 5, code: 'config.invalid_value', message }, `${JSON.stringify(input)} refused`);
  }
  t.throws(() => new TrustedProxies(['10.0.0.0/8', 'nonsense', '1.2.3.4/40']),
    { exitCode: 5, message: /server\.trustedProxies has 2 invalid entries: .*'nonsense'.*'1\.2\.3\.4\/40'/ }, 'all bad entries named at startup');
  t.throws(() => new TrustedProxies('10.0.0.0/8'), { exitCode: 5, message: /must be a list/ });
  t.equal(new TrustedProxies([]).empty, true);
});

t.test('address parsing and normalisation', async (t) => {
  t.equal(normalizeIp('::ffff:1.2.3.4'), '1.2.3.4', 'mapped IPv4 unwrapped');
  t.equal(normalizeIp('::FFFF:0102:0304'), '1.2.3.4', 'mapped IPv4 in hex');
  t.equal(normalizeIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1', 'RFC 5952 form');
  t.equal(normalizeIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1', 'longest zero run');
  t.equal(normalizeIp('fe80::1%eth0'), 'fe80::1', 'zone dropped');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '::g', '1:2:3:4:5:6:7:8:9', 'unknown', '1.2.3.4 ', null]) {
    t.equal(parseIp(bad), null, `${JSON.stringify(bad)} is not an address`);
  }
});

const trusted = new TrustedProxies(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);

t.test('client IP table', async (t) => {
  const cases = [
    // [what, peer, X-Forwarded-For, expected]
    ['untrusted peer: XFF ignored', '203.0.113.5', '198.51.100.1', '203.0.113.5'],
    ['untrusted peer: XFF naming a trusted proxy ignored', '203.0.113.5', '10.0.0.1', '203.0.113.5'],
    ['trusted peer, no XFF: the peer', '10.0.0.2', undefined, '10.0.0.2'],
    ['trusted peer, empty XFF: the peer', '10.0.0.2', '', '10.0.0.2'],
    ['trusted peer: the forwarded client', '10.0.0.2', '198.51.100.7', '198.51.100.7'],
    ['trusted peer: rightmost untrusted hop', '10.0.0.2', '198.51.100.7, 10.1.1.1', '198.51.100.7'],
    ['spoofed leftmost entries ignored', '10.0.0.2', '1.1.1.1, 6.6.6.6, 198.51.100.7, 10.1.1.1', '198.51.100.7'],
    ['spoofed "trusted" entry left of the client ignored', '10.0.0.2', '10.9.9.9, 198.51.100.7', '198.51.100.7'],
    ['all-trusted chain: the farthest hop', '10.0.0.2', '10.0.0.9, 10.0.0.8', '10.0.0.9'],
    ['IPv6 client via trusted IPv6 proxy', 'fd00::2', '2001:db8::7', '2001:db8::7'],
    ['IPv6 client in brackets with port', '10.0.0.2', '[2001:DB8::7]:4711', '2001:db8::7'],
    ['IPv4 client with port', '10.0.0.2', '198.51.100.7:4711', '198.51.100.7'],
    ['mapped IPv4 peer counts as the IPv4 proxy', '::ffff:10.0.0.2', '198.51.100.7', '198.51.100.7'],
    ['mapped IPv4 hop normalised', '10.0.0.2', '::ffff:198.51.100.7', '198.51.100.7'],
    ['mapped IPv4 untrusted peer normalised', '::ffff:203.0.113.5', '198.51.100.1', '203.0.113.5'],
    ['loopback proxy (single host)', '127.0.0.1', '198.51.100.7', '198.51.100.7'],
    ['127.0.0.2 is not 127.0.0.1', '127.0.0.2', '198.51.100.7', '127.0.0.2'],
    ['garbage right after the proxy: the proxy', '10.0.0.2', '198.51.100.7, unknown', '10.0.0.2'],
    ['garbage stops the walk (no spoofing through "unknown")', '10.0.0.2', '6.6.6.6, unknown, 10.0.0.3', '10.0.0.3'],
    ['garbage left of the client is irrelevant', '10.0.0.2', '<script>, 198.51.100.7', '198.51.100.7'],
    ['empty hops are garbage', '10.0.0.2', ', , ', '10.0.0.2'],
    ['bad port is garbage', '10.0.0.2', '198.51.100.7:http', '10.0.0.2'],
    ['obfuscated name is garbage', '10.0.0.2', '_hidden', '10.0.0.2'],
    ['overlong hop is garbage', '10.0.0.2', '1'.repeat(500), '10.0.0.2'],
    ['two XFF headers (list)', '10.0.0.2', ['6.6.6.6', '198.51.100.7, 10.0.0.5'], '198.51.100.7'],
    ['two XFF headers (node-joined)', '10.0.0.2', '6.6.6.6, 198.51.100.7', '198.51.100.7'],
  ];
  for (const [what, peer, xff, want] of cases) t.equal(clientIp(peer, xff, trusted), want, what);
});

t.test('client IP without trusted proxies: always the peer', async (t) => {
  const none = new TrustedProxies([]);
  t.equal(clientIp('10.0.0.2', '198.51.100.7', none), '10.0.0.2', 'XFF never read');
  t.equal(clientIp('::ffff:127.0.0.1', '198.51.100.7', none), '127.0.0.1', 'mapped peer normalised');
  t.equal(clientIp('2001:DB8::1', undefined, none), '2001:db8::1');
  t.equal(clientIp(undefined, undefined, none), '', 'a destroyed socket has no address');
});

t.test('a very long chain of trusted hops stops after 32', async (t) => {
  const chain = ['198.51.100.7', ...Array.from({ length: 40 }, (_, i) => `10.0.${i}.1`)].join(', ');
  const got = clientIp('10.0.0.2', chain, trusted);
  t.match(got, /^10\.0\.\d+\.1$/, `does not walk past 32 hops (${got})`);
});

t.test('rate-limit key: IPv4 as is, IPv6 by /64', async (t) => {
  t.equal(rateLimitKey('198.51.100.7'), '198.51.100.7');
  t.equal(rateLimitKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.equal(rateLimitKey('2001:db8:1:2:bbbb::9'), '2001:db8:1:2::/64', 'same /64, same key');
  t.not(rateLimitKey('2001:db8:1:3::1'), rateLimitKey('2001:db8:1:2::1'), 'another /64, another key');
  t.equal(rateLimitKey('::ffff:1.2.3.4'), '1.2.3.4');
});
