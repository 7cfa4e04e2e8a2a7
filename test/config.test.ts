// SPEC §6: `relaystore serve` options, their RELAYSTORE_* variables, and one clear report of every problem.
import test from 'ava';
import { parseServeConfig, DEFAULT_EXPLORERS } from '../src/config.js';
import { runCli } from './support/service.js';

test('defaults: bitcoin, ./data, loopback 8080, managed tor, onion explorers, 30 s polls, 6 confirmations, fee target 6, bump after 3', (t) => {
  const r = parseServeConfig([], {});
  if (r.kind !== 'ok') return t.fail(r.problems.join('; '));
  t.like(r.config, { network: 'bitcoin', listenHost: '127.0.0.1', listenPort: 8080, tor: 'managed', socks: 'socks5h://127.0.0.1:9050', pollIntervalSeconds: 30, confirmations: 6, onion: null, feeTargetBlocks: 6, feeBumpBlocks: 3 });
  t.true(r.config.dataDir.endsWith('/data'));
  t.deepEqual(r.config.explorers, DEFAULT_EXPLORERS.bitcoin);
  t.true(r.config.explorers.every((e) => new URL(e).hostname.endsWith('.onion')));
});

test('flags in both forms, repeatable --explorer, environment for the rest', (t) => {
  const r = parseServeConfig(
    ['--network', 'signet', '--explorer=http://a.onion/api', '--explorer', 'http://b.onion/api', '--tor', 'external', '--socks', 'socks5h://127.0.0.1:9150'],
    { RELAYSTORE_POLL_INTERVAL: '5', RELAYSTORE_CONFIRMATIONS: '2', RELAYSTORE_NETWORK: 'testnet', RELAYSTORE_FEE_TARGET: '2', RELAYSTORE_FEE_BUMP_BLOCKS: '1' },
  );
  if (r.kind !== 'ok') return t.fail(r.problems.join('; '));
  t.like(r.config, { network: 'signet', tor: 'external', socks: 'socks5h://127.0.0.1:9150', pollIntervalSeconds: 5, confirmations: 2, feeTargetBlocks: 2, feeBumpBlocks: 1 });
  t.deepEqual(r.config.explorers, ['http://a.onion/api', 'http://b.onion/api']);
});

test('RELAYSTORE_EXPLORER is comma-separated', (t) => {
  const r = parseServeConfig(['--network', 'regtest', '--tor', 'off'], { RELAYSTORE_EXPLORER: 'http://127.0.0.1:3000/api, http://127.0.0.1:3001/api' });
  t.is(r.kind, 'ok');
  if (r.kind === 'ok') t.deepEqual(r.config.explorers, ['http://127.0.0.1:3000/api', 'http://127.0.0.1:3001/api']);
});

const INVALID: Array<[string, string[], RegExp]> = [
  ['tor off outside regtest', ['--tor', 'off'], /--tor off is allowed only with --network regtest/],
  ['a public listen address', ['--listen', '0.0.0.0:8080'], /not a loopback address/],
  ['a SOCKS URL that resolves locally', ['--tor', 'external', '--socks', 'socks5://127.0.0.1:9050'], /socks5h/],
  ['regtest without explorers', ['--network', 'regtest', '--tor', 'off'], /no default explorer/],
  ['an unknown network', ['--network', 'mainnet'], /--network must be one of/],
  ['a bad poll interval', ['--poll-interval', '0'], /--poll-interval must be an integer/],
  ['an unknown option', ['--frobnicate'], /unknown argument/],
  ['a fee target of 0 blocks', ['--fee-target', '0'], /--fee-target must be an integer from 1/],
  ['a bump after 0 blocks', ['--fee-bump-blocks', '0'], /--fee-bump-blocks must be an integer from 1/],
  ['a malformed onion', ['--tor', 'external', '--onion', 'example.com'], /v3 onion address/],
];
for (const [description, argv, message] of INVALID) {
  test(`refused: ${description}`, (t) => {
    const r = parseServeConfig(argv, {});
    t.is(r.kind, 'invalid');
    if (r.kind === 'invalid') t.true(r.problems.some((p) => message.test(p)), r.problems.join('; '));
  });
}

test('a public listen address is allowed with --allow-public-listen', (t) => {
  const r = parseServeConfig(['--listen', '0.0.0.0:8080', '--allow-public-listen'], {});
  t.is(r.kind, 'ok');
});

test('`relaystore serve` with bad configuration lists every problem and exits 2', async (t) => {
  const { code, stderr } = await runCli(['serve', '--network', 'regtest', '--tor', 'off', '--poll-interval', 'soon', '--listen', '10.0.0.1:80']);
  t.is(code, 2);
  t.regex(stderr, /--poll-interval must be an integer/);
  t.regex(stderr, /not a loopback address/);
  t.regex(stderr, /no default explorer/);
});

test('`relaystore` with an unknown command exits 2 with usage', async (t) => {
  const { code, stderr } = await runCli(['frobnicate']);
  t.is(code, 2);
  t.regex(stderr, /usage: relaystore/);
});
