// The official sails.io.js client against a CRUD blueprint (tests/apps/blueprints.py):
// the seed's "Using CRUD Blueprints" browser snippet, run in Node.
//
// Run by tests/test_sails_io_js.py with SOCKPUB_SERVER_URL set to a fresh server.
'use strict';

const { after, describe, test } = require('node:test');
const assert = require('node:assert/strict');

const { io, request, nextEvent, SERVER_URL } = require('./sails-io-helpers.js');

const other = io.sails.connect(SERVER_URL, { reconnection: false });

after(() => {
  io.socket.disconnect();
  other.disconnect();
});

describe('a blueprint through io.socket', () => {
  let user;

  test('get lists the users and subscribes the socket', async () => {
    const { body, jwr } = await request(io.socket, 'get', '/user');
    assert.equal(jwr.statusCode, 200);
    assert.deepEqual(body, []);
    assert.equal(jwr.headers['X-Total-Count'], '0');
  });

  test('post creates a user; the listing socket hears the create', async () => {
    const heard = nextEvent(io.socket, 'message');
    const { body, jwr } = await request(other, 'post', '/user', { name: 'foo' });
    assert.equal(jwr.statusCode, 201);
    user = body;
    assert.deepEqual(await heard, { model: 'user', verb: 'create', id: user.id, data: user });
  });

  test('put updates the user; the listing socket hears the update', async () => {
    const heard = nextEvent(io.socket, 'message');
    const { body, jwr } = await request(other, 'put', `/user/${user.id}`, { name: 'foobar' });
    assert.equal(jwr.statusCode, 200);
    assert.equal(body.name, 'foobar');
    assert.deepEqual(await heard, { model: 'user', verb: 'update', id: user.id, data: body });
  });

  test('delete destroys the user; the listing socket hears the destroy', async () => {
    const heard = nextEvent(io.socket, 'message');
    const { jwr } = await request(other, 'delete', `/user/${user.id}`);
    assert.equal(jwr.statusCode, 200);
    assert.deepEqual(await heard, { model: 'user', verb: 'destroy', id: user.id });
  });

  test('head answers like get and subscribes nothing', async () => {
    const { body } = await request(io.socket, 'post', '/user', { name: 'headless' });
    for (const url of ['/user', `/user/${body.id}`]) {
      const { jwr } = await new Promise((resolve) => {
        other.request({ method: 'head', url }, (body, jwr) => resolve({ body, jwr }));
      });
      assert.equal(jwr.statusCode, 200);
      assert.equal(jwr.body, null);
      assert.equal(jwr.headers['X-Sockpub-Subscribed'], undefined);
    }
    for (const room of ['class', body.id]) {
      const members = await (await fetch(`${SERVER_URL}/_testing/subscribers/user/${room}`)).json();
      assert.ok(!members.sockets.includes(other._raw.id), `${other._raw.id} joined ${room}`);
    }
    await request(io.socket, 'delete', `/user/${body.id}`);
  });

  test('errors arrive as jwr.error with the fields named', async () => {
    const missing = await request(io.socket, 'get', `/user/${user.id}`);
    assert.equal(missing.jwr.statusCode, 404);
    assert.ok(missing.jwr.error);
    const refused = await request(io.socket, 'post', '/user', { name: 'x', bogus: 1 });
    assert.equal(refused.jwr.statusCode, 400);
    assert.deepEqual(refused.body.fields, { bogus: 'unknown attribute' });
  });
});

describe("Sails 0.9's coming-soon socket methods, from sails.io.js", () => {
  const watcher = io.sails.connect(SERVER_URL, { reconnection: false });
  const lookout = io.sails.connect(SERVER_URL, { reconnection: false });
  after(() => {
    watcher.disconnect();
    lookout.disconnect();
  });

  test('req.socket.subscribeTo(Model) as current_socket.subscribe_to: creates, then their changes', async () => {
    const { body } = await request(watcher, 'get', '/watching/user-creates');
    assert.deepEqual(body, { watching: true });
    const created = nextEvent(watcher, 'message');
    const made = (await request(other, 'post', '/user', { name: 'subscribed' })).body;
    assert.deepEqual(await created, { model: 'user', verb: 'create', id: made.id, data: made });
    const updated = nextEvent(watcher, 'message');
    const changed = (await request(other, 'patch', `/user/${made.id}`, { age: 3 })).body;
    assert.deepEqual(await updated, { model: 'user', verb: 'update', id: made.id, data: changed });
  });

  test('req.socket.watch(models) as current_socket.watch: that instance only', async () => {
    const one = (await request(other, 'post', '/user', { name: 'watched-one' })).body;
    const two = (await request(other, 'post', '/user', { name: 'not-watched' })).body;
    const { body } = await request(lookout, 'get', `/watching/users?ids=${one.id}`);
    assert.deepEqual(body, { watching: true });
    const heard = nextEvent(lookout, 'message');
    await request(other, 'put', `/user/${two.id}`, { age: 8 });
    const changed = (await request(other, 'put', `/user/${one.id}`, { age: 9 })).body;
    assert.deepEqual(await heard, { model: 'user', verb: 'update', id: one.id, data: changed });
  });
});
