// The SDK's settings (flask_sockpub/static/src/settings.mjs): defaults, script
// tag attributes, and the reconnection back-off they give socket.io-client.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Manager } from 'socket.io-client';

import { defaultSettings, rawOptions, scriptTagSettings } from '../../flask_sockpub/static/src/settings.mjs';

// A script element as far as scriptTagSettings looks at it.
function scriptTag(attributes) {
  return { getAttribute: (name) => (name in attributes ? attributes[name] : null) };
}

describe('settings', () => {
  test('the socket connects to the server that served the script', () => {
    assert.equal(defaultSettings('https://api.example.com:8443/sockpub/sockpub.js').url, 'https://api.example.com:8443');
    assert.equal(defaultSettings(undefined).url, undefined); // io() then uses the page's origin
  });

  test('script tag attributes, as sails.io.js reads them, with or without data-', () => {
    const settings = scriptTagSettings(
      scriptTag({
        autoconnect: 'false',
        'data-environment': 'production',
        headers: '{"X-Client": "page"}',
        url: 'http://127.0.0.1:5000',
      }),
    );
    assert.deepEqual(settings, {
      autoConnect: false,
      environment: 'production',
      headers: { 'X-Client': 'page' },
      url: 'http://127.0.0.1:5000',
    });
    assert.deepEqual(scriptTagSettings(null), {});
  });

  test('socket.io-client options: WebSocket, own connection, reconnection on', () => {
    const options = rawOptions({ ...defaultSettings(undefined), auth: { token: 't' } });
    assert.deepEqual(options.transports, ['websocket']);
    assert.equal(options.forceNew, true);
    assert.equal(options.reconnection, true);
    assert.deepEqual(options.auth, { token: 't' });
    assert.equal('query' in options, false);
    assert.equal(rawOptions({ ...defaultSettings(undefined), reconnection: false }).reconnection, false);
  });

  test('reconnection backs off exponentially up to 5 s, with jitter', () => {
    // socket.io-client's own Manager, given the SDK's options (it never connects here).
    const delays = () => {
      const manager = new Manager('http://127.0.0.1:9', { ...rawOptions(defaultSettings(undefined)), autoConnect: false });
      return Array.from({ length: 8 }, () => manager.backoff.duration());
    };
    const runs = Array.from({ length: 20 }, delays);
    for (const run of runs) {
      assert.ok(run[0] >= 500 && run[0] <= 1500, `first delay ${run[0]} ms`);
      assert.ok(run.every((ms) => ms <= 5000), `delays ${run}`);
      assert.ok(run.slice(5).every((ms) => ms >= 2500), `late delays ${run}`);
    }
    const mean = (index) => runs.reduce((sum, run) => sum + run[index], 0) / runs.length;
    assert.ok(mean(0) < mean(1) && mean(1) < mean(2), 'delays grow');
    assert.ok(new Set(runs.map((run) => run[0])).size > 1, 'delays vary from socket to socket');
  });
});
