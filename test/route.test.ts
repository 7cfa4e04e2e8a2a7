// Which way a connection leaves (src/net/route.ts): only hosts on this machine are reached without Tor.
import test from 'ava';
import { DEFAULT_SOCKS, isLoopbackHost, socksFor } from '../src/net/route.js';

const LOOPBACK = ['localhost', '127.0.0.1', '127.255.0.9', '::1', '[::1]'];
const NOT_LOOPBACK = ['example.onion', '10.0.0.1', '128.0.0.1', '127.0.0.1.nip.io', '::2', '1127.0.0.1', '', 'localhost.example'];

for (const host of LOOPBACK) test(`${host} is loopback`, (t) => t.true(isLoopbackHost(host)));
for (const host of NOT_LOOPBACK) test(`"${host}" is not loopback`, (t) => t.false(isLoopbackHost(host)));

test('a URL normalizes what it holds before it is judged (http://127.1 is 127.0.0.1)', (t) => {
  t.true(isLoopbackHost(new URL('http://127.1:8080').hostname));
  t.true(isLoopbackHost(new URL('http://[0:0:0:0:0:0:0:1]/').hostname));
});

test('socks: as given; else direct only when every server is on this machine; else Tor on 9050', (t) => {
  const local = new URL('http://127.0.0.1:8080');
  const onion = new URL(`http://${'a'.repeat(56)}.onion`);
  t.is(socksFor('socks5h://127.0.0.1:9150', [local]), 'socks5h://127.0.0.1:9150');
  t.is(socksFor(undefined, [local, new URL('http://localhost:9')]), null);
  t.is(socksFor(undefined, [local, onion]), DEFAULT_SOCKS);
  t.is(DEFAULT_SOCKS, 'socks5h://127.0.0.1:9050');
});
