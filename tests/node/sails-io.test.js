// The official sails.io.js 1.x client, unmodified, against a running flask_sockpub server.
//
// Run by tests/test_sails_io_js.py, which starts the server (tests/apps/clients.py)
// and passes its URL in SOCKPUB_SERVER_URL:
//
//   SOCKPUB_SERVER_URL=http://127.0.0.1:5000 node --test tests/node/
'use strict';

const { after, before, describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');

const { io, request, nextEvent, SERVER_URL } = require('./sails-io-helpers.js');

// A socket of its own, connected with `options`; resolves once connected.
function connect(options) {
  const socket = io.sails.connect(SERVER_URL, { reconnection: false, ...options });
  return new Promise((resolve, reject) => {
    socket.on('connect', () => resolve(socket));
    socket.on('connect_error', (error) => {
      socket._raw.close();
      reject(error);
    });
  });
}

after(() => {
  if (io.socket.isConnected()) {
    io.socket.disconnect();
  }
});

describe('io.socket requests reach Flask views', () => {
  test('a request made before the socket connects is queued, then answered', async () => {
    assert.equal(io.socket.isConnected(), false);
    const { body, jwr } = await request(io.socket, 'get', '/echo', { message: 'hi there!' });
    assert.deepEqual(body, { success: true, message: 'hi there!' });
    assert.equal(jwr.statusCode, 200);
    assert.equal(jwr.error, undefined);
    assert.equal(jwr.headers['X-After-Request'], 'yes');
  });

  test('get sends its data as the query string', async () => {
    const { body, jwr } = await request(io.socket, 'get', '/methods/users', { limit: 2, name: 'Randy' });
    assert.equal(jwr.statusCode, 200);
    assert.deepEqual(body, {
      method: 'GET', name: 'users', args: { limit: '2', name: 'Randy' }, json: null,
    });
  });

  test('post sends its data as the JSON body; the view\'s status arrives', async () => {
    const { body, jwr } = await request(io.socket, 'post', '/methods/users?status=201', { name: 'Randy' });
    assert.equal(jwr.statusCode, 201);
    assert.equal(jwr.error, undefined);
    assert.deepEqual(body, {
      method: 'POST', name: 'users', args: { status: '201' }, json: { name: 'Randy' },
    });
  });

  test('put sends its data as the JSON body', async () => {
    const { body, jwr } = await request(io.socket, 'put', '/methods/users', { name: 'Amanda' });
    assert.equal(jwr.statusCode, 200);
    assert.equal(body.method, 'PUT');
    assert.deepEqual(body.json, { name: 'Amanda' });
  });

  test('patch sends its data as the JSON body', async () => {
    const { body } = await request(io.socket, 'patch', '/methods/users', { name: 'Amanda' });
    assert.equal(body.method, 'PATCH');
    assert.deepEqual(body.json, { name: 'Amanda' });
  });

  test('delete sends its data as the query string', async () => {
    const { body, jwr } = await request(io.socket, 'delete', '/methods/users', { id: 7 });
    assert.equal(jwr.statusCode, 200);
    assert.equal(body.method, 'DELETE');
    assert.deepEqual(body.args, { id: '7' });
  });

  test('request() with headers reaches the view', async () => {
    const { body } = await new Promise((resolve) => {
      io.socket.request(
        { method: 'get', url: '/headers', headers: { 'X-Custom': 'from sails.io.js' } },
        (body, jwr) => resolve({ body, jwr }),
      );
    });
    assert.equal(body.x_custom, 'from sails.io.js');
  });
});

describe('error statuses set jwr.error', () => {
  test('abort(403) gives 403 with a JSON error', async () => {
    const { body, jwr } = await request(io.socket, 'get', '/forbidden');
    assert.equal(jwr.statusCode, 403);
    assert.ok(jwr.error instanceof Error);
    assert.match(jwr.error.message, /403/);
    assert.match(body.error, /permission/);
  });

  test('the app\'s own 404 handler answers', async () => {
    const { body, jwr } = await request(io.socket, 'get', '/no/such/page');
    assert.equal(jwr.statusCode, 404);
    assert.ok(jwr.error instanceof Error);
    assert.deepEqual(body, { error: 'custom not found', path: '/no/such/page' });
  });

  test('an exception in a view gives 500', async () => {
    const { body, jwr } = await request(io.socket, 'get', '/boom');
    assert.equal(jwr.statusCode, 500);
    assert.ok(jwr.error instanceof Error);
    assert.match(body.error, /internal/i);
  });

  test('a bad payload gives 400 naming what was wrong', async () => {
    const { body, jwr } = await request(io.socket, 'get', 'echo-without-a-slash');
    assert.equal(jwr.statusCode, 400);
    assert.ok(jwr.error instanceof Error);
    assert.match(body.error, /url must be a path/);
  });
});

// An event emitted on the socket.io socket under sails.io.js, answered through its acknowledgement.
function rawEmit(socket, event, ...args) {
  return new Promise((resolve) => socket._raw.emit(event, ...args, resolve));
}

describe('Sails 0.9 forms are answered the v0.9 way', () => {
  test('a JSON-string payload may call its data params; the body comes back alone', async () => {
    const payload = JSON.stringify({ url: '/echo', params: { message: 'v0.9' } });
    assert.deepEqual(JSON.parse(await rawEmit(io.socket, 'get', payload)), {
      success: true, message: 'v0.9',
    });
  });

  test('an unknown event in the string form gets its error as body text', async () => {
    const answer = await rawEmit(io.socket, 'subscribe', JSON.stringify({ url: '/echo' }));
    assert.equal(typeof answer, 'string');
    assert.match(JSON.parse(answer).error, /unknown event 'subscribe'/);
  });

  test('send() is a request: GET for an object, the verb of a JSON string', async () => {
    const got = await rawEmit(io.socket, 'message', { url: '/echo', data: { message: 'sent' } });
    assert.deepEqual(JSON.parse(got), { success: true, message: 'sent' });
    const payload = JSON.stringify({ url: '/methods/users', verb: 'post', params: { name: 'Randy' } });
    const posted = await new Promise((resolve) => io.socket._raw.send(payload, resolve));
    assert.deepEqual(JSON.parse(posted), {
      method: 'POST', name: 'users', args: {}, json: { name: 'Randy' },
    });
  });

  test('an absolute URL naming the server is a request to it', async () => {
    const { body, jwr } = await request(io.socket, 'get', `${SERVER_URL}/echo`, { message: 'absolute' });
    assert.equal(jwr.statusCode, 200);
    assert.deepEqual(body, { success: true, message: 'absolute' });
    const elsewhere = await request(io.socket, 'get', 'http://elsewhere.example/echo');
    assert.equal(elsewhere.jwr.statusCode, 400);
    assert.match(elsewhere.body.error, /must be a path on this server/);
  });
});

describe('io.socket.on receives broadcasts', () => {
  test('a broadcast to a room the socket listens to arrives as a message event', async () => {
    const room = `node-${randomUUID()}`;
    const listened = await request(io.socket, 'post', `/rooms/${room}/listen`);
    assert.deepEqual(listened.body, { listening: true });
    const arrival = nextEvent(io.socket, 'message');
    await request(io.socket, 'post', `/rooms/${room}/broadcast`, { text: 'hello from Flask' });
    assert.deepEqual(await arrival, { room, text: 'hello from Flask' });
  });

  test('a broadcast made by another socket arrives too', async () => {
    const room = `node-${randomUUID()}`;
    const other = await connect({});
    try {
      await request(io.socket, 'post', `/rooms/${room}/listen`);
      const arrival = nextEvent(io.socket, 'message');
      await request(other, 'post', `/rooms/${room}/broadcast`, { text: 'from the other socket' });
      assert.deepEqual(await arrival, { room, text: 'from the other socket' });
    } finally {
      other.disconnect();
    }
  });
});

describe('connect-time auth', () => {
  test('a bearer token in the handshake headers becomes current_socket.auth', async () => {
    const socket = await connect({ initialConnectionHeaders: { Authorization: 'Bearer good-token' } });
    try {
      const { body } = await request(socket, 'get', '/auth');
      assert.deepEqual(body.auth, { token: 'good-token' });
      assert.equal(body.user, 'randy');
    } finally {
      socket.disconnect();
    }
  });

  test('a socket with a bad token is refused and told why', async () => {
    await assert.rejects(
      connect({ initialConnectionHeaders: { Authorization: 'Bearer stolen-token' } }),
      (error) => {
        assert.equal(error.message, 'invalid token');
        assert.deepEqual(error.data, { hint: 'ask for a new token' });
        return true;
      },
    );
  });
});
