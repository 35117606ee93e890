// Unit tests of the browser SDK's logic (flask_sockpub/static/src/socket.mjs)
// against a fake socket.io-client socket. Run by tests/test_sdk_js.py, or:
//
//   node --test tests/js/
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { JWR } from '../../flask_sockpub/static/src/jwr.mjs';
import {
  IDENTITY_CHANGED_HEADER,
  IDENTITY_EVENT,
  SESSION_FOLLOW_HEADER,
  SUBSCRIBED_HEADER,
  SockpubSocket,
} from '../../flask_sockpub/static/src/socket.mjs';
import { FakeRawSocket } from './fake-socket.mjs';

const SUBSCRIBED = { [SUBSCRIBED_HEADER]: '1', 'Content-Type': 'application/json' };

// A SockpubSocket on a fake raw socket; errors thrown by page callbacks are collected.
function connectedPair({ open = true, headers } = {}) {
  const raw = new FakeRawSocket();
  const errors = [];
  const socket = new SockpubSocket(() => raw, { headers, reportError: (error) => errors.push(error) });
  socket.connect();
  if (open) raw.open();
  return { raw, socket, errors };
}

// Records callback calls as [body, jwr] pairs.
function recorder() {
  const calls = [];
  const callback = (body, jwr) => calls.push([body, jwr]);
  return { calls, callback };
}

describe('request shapes', () => {
  test('get(url, data, cb) emits the sails.io.js payload on the "get" event', () => {
    const { raw, socket } = connectedPair();
    socket.get('/echo', { message: 'hi there!' }, () => {});
    assert.equal(raw.sent.length, 1);
    const [{ event, payload }] = raw.sent;
    assert.equal(event, 'get');
    assert.deepEqual(payload, { method: 'GET', url: '/echo', headers: {}, data: { message: 'hi there!' } });
  });

  test('the callback gets (body, jwr) and the promise resolves to the body', async () => {
    const { raw, socket } = connectedPair();
    const { calls, callback } = recorder();
    const promise = socket.get('/echo', { message: 'hi' }, callback);
    raw.answer(0, { body: { success: true, message: 'hi' }, statusCode: 200, headers: { 'X-Total-Count': '1' } });
    assert.deepEqual(await promise, { success: true, message: 'hi' });
    assert.equal(calls.length, 1);
    const [body, jwr] = calls[0];
    assert.deepEqual(body, { success: true, message: 'hi' });
    assert.ok(jwr instanceof JWR);
    assert.equal(jwr.statusCode, 200);
    assert.equal(jwr.header('x-total-count'), '1');
    assert.equal(jwr.error, undefined);
    assert.deepEqual(jwr.toPOJO(), { body, statusCode: 200, headers: { 'X-Total-Count': '1' } });
  });

  test('data is optional: get(url, cb) and post(url) without a callback', async () => {
    const { raw, socket } = connectedPair();
    const { calls, callback } = recorder();
    socket.get('/todo', callback);
    const created = socket.post('/todo', { title: 'milk' });
    socket.delete('/todo/3');
    assert.deepEqual(raw.sentRequests(), ['GET /todo', 'POST /todo', 'DELETE /todo/3']);
    assert.equal('data' in raw.sent[0].payload, false);
    assert.deepEqual(raw.sent[1].payload.data, { title: 'milk' });
    raw.answer(0, { body: [] });
    raw.answer(1, { body: { id: 1, title: 'milk' }, statusCode: 201 });
    assert.deepEqual(await created, { id: 1, title: 'milk' });
    assert.deepEqual(calls[0][0], []);
  });

  test('put, patch and delete send their own events', () => {
    const { raw, socket } = connectedPair();
    socket.put('/todo/1', { done: true });
    socket.patch('/todo/1', { done: false });
    socket.delete('/todo/1', () => {});
    assert.deepEqual(raw.sent.map((s) => s.event), ['put', 'patch', 'delete']);
    assert.deepEqual(raw.sentRequests(), ['PUT /todo/1', 'PATCH /todo/1', 'DELETE /todo/1']);
  });

  test('request({method, url, data, headers}) and the sails.io.js params alias', async () => {
    const { raw, socket } = connectedPair();
    const answered = socket.request({ method: 'post', url: '/user', data: { name: 'Randy' }, headers: { 'X-Trace': 'a' } });
    socket.request({ url: '/user', params: { name: 'Randy' } });
    assert.deepEqual(raw.sent[0].payload, { method: 'POST', url: '/user', data: { name: 'Randy' }, headers: { 'X-Trace': 'a' } });
    assert.equal(raw.sent[0].event, 'post');
    assert.deepEqual(raw.sent[1].payload, { method: 'GET', url: '/user', data: { name: 'Randy' }, headers: {} });
    raw.answer(0, { body: { id: 3 }, statusCode: 201 });
    assert.deepEqual(await answered, { id: 3 });
  });

  test("the socket's headers go with every request; a request's own win", () => {
    const { raw, socket } = connectedPair({ headers: { 'X-Client': 'page', 'X-Trace': 'socket' } });
    socket.request({ url: '/a', headers: { 'X-Trace': 'request' } });
    assert.deepEqual(raw.sent[0].payload.headers, { 'X-Client': 'page', 'X-Trace': 'request' });
  });

  test('misuse is a TypeError that says what was expected', () => {
    const { socket } = connectedPair();
    assert.throws(() => socket.get(), { name: 'TypeError', message: /needs a url/ });
    assert.throws(() => socket.get('/a', {}, 'not a function'), { name: 'TypeError', message: /callback must be a function/ });
    assert.throws(() => socket.post('/a', 'text'), { name: 'TypeError', message: /data must be an object/ });
    assert.throws(() => socket.request({ url: '/a', method: 7 }), { name: 'TypeError', message: /method must be a string/ });
    assert.throws(() => socket.request({ url: '/a', data: {}, params: {} }), { name: 'TypeError', message: /not both/ });
    assert.throws(() => socket.request({ url: '/a', headers: 'x' }), { name: 'TypeError', message: /headers must be an object/ });
  });
});

describe('errors', () => {
  test('a 4xx rejects the promise with the JWR and still calls the callback', async () => {
    const { raw, socket } = connectedPair();
    const { calls, callback } = recorder();
    const promise = socket.get('/todo/99', callback);
    raw.answer(0, { body: { error: 'no todo 99' }, statusCode: 404 });
    const rejection = await promise.then(
      () => assert.fail('the promise resolved'),
      (jwr) => jwr,
    );
    assert.ok(rejection instanceof JWR);
    assert.equal(rejection.statusCode, 404);
    assert.match(rejection.error.message, /404: no todo 99/);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0][0], { error: 'no todo 99' });
    assert.equal(calls[0][1], rejection);
  });

  test('a 5xx without a callback rejects; statuses below 400 resolve', async () => {
    const { raw, socket } = connectedPair();
    const failed = socket.post('/crash');
    const redirected = socket.get('/old');
    raw.answer(0, { body: { error: 'internal server error' }, statusCode: 500 });
    raw.answer(1, { body: null, statusCode: 302, headers: { Location: '/new' } });
    await assert.rejects(failed, (jwr) => jwr.statusCode === 500);
    assert.equal(await redirected, null);
  });

  test('with a callback, a rejected promise nobody awaits is not an unhandled rejection', async () => {
    const unhandled = [];
    const record = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const { raw, socket } = connectedPair();
      socket.get('/forbidden', () => {});
      raw.answer(0, { body: { error: 'no' }, statusCode: 403 });
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('unhandledRejection', record);
    }
    assert.deepEqual(unhandled, []);
  });

  test('a callback that throws does not stop the SDK; the error is reported', async () => {
    const { raw, socket, errors } = connectedPair();
    const promise = socket.get('/a', () => {
      throw new Error('page bug');
    });
    raw.answer(0, { body: 1 });
    assert.equal(await promise, 1);
    assert.deepEqual(errors.map((e) => e.message), ['page bug']);
  });
});

describe('queueing', () => {
  test('requests made before the connection is up wait, then go in order', async () => {
    const { raw, socket } = connectedPair({ open: false });
    const { calls, callback } = recorder();
    socket.get('/first', callback);
    const second = socket.post('/second', { n: 2 });
    assert.equal(raw.sent.length, 0);
    assert.equal(socket.isConnected(), false);
    assert.equal(socket.isConnecting(), true);
    raw.open();
    assert.equal(socket.isConnected(), true);
    assert.deepEqual(raw.sentRequests(), ['GET /first', 'POST /second']);
    raw.answer(0, { body: 'one' });
    raw.answer(1, { body: 'two' });
    assert.equal(await second, 'two');
    assert.equal(calls[0][0], 'one');
  });

  test('requests made before connect() is even called wait too', () => {
    const raw = new FakeRawSocket();
    let opened = 0;
    const socket = new SockpubSocket(() => {
      opened += 1;
      return raw;
    });
    socket.get('/early');
    assert.equal(opened, 0);
    socket.connect();
    socket.connect(); // connecting already: no second raw socket
    assert.equal(opened, 1);
    raw.open();
    assert.deepEqual(raw.sentRequests(), ['GET /early']);
  });

  test('requests made while the connection is down wait for the reconnection', () => {
    const { raw, socket } = connectedPair();
    raw.drop();
    socket.put('/todo/1', { done: true });
    assert.equal(raw.sent.length, 0);
    raw.open();
    assert.deepEqual(raw.sentRequests(), ['PUT /todo/1']);
  });

  test('a transport error while connecting keeps the queue; a refusal by the server fails it', async () => {
    const { raw, socket } = connectedPair({ open: false });
    const errors = [];
    socket.on('connect_error', (error) => errors.push(error.message));
    const waiting = socket.get('/me');
    raw.failToReach();
    assert.equal(raw.sent.length, 0);
    raw.refuse('invalid token');
    const jwr = await waiting.catch((failure) => failure);
    assert.equal(jwr.statusCode, 0);
    assert.match(jwr.error.message, /the server refused the socket: invalid token; GET \/me was not sent/);
    assert.deepEqual(errors, ['websocket error', 'invalid token']);
    assert.equal(socket.isConnecting(), false);
  });
});

describe('disconnection', () => {
  test('requests in flight when the connection drops fail with a clear error', async () => {
    const { raw, socket } = connectedPair();
    const { calls, callback } = recorder();
    const slow = socket.get('/slow', { seconds: 5 }, callback);
    const saved = socket.post('/todo', { title: 'x' });
    raw.drop('transport close');
    assert.equal(socket.isConnecting(), true, 'socket.io-client tries again');
    const jwr = await slow.catch((failure) => failure);
    assert.ok(jwr instanceof JWR);
    assert.equal(jwr.statusCode, 0);
    assert.equal(jwr.error.message, 'the socket disconnected (transport close) before GET /slow was answered');
    await assert.rejects(saved, (failure) => /before POST \/todo was answered/.test(failure.error.message));
    assert.equal(calls.length, 1);
    assert.equal(calls[0][0], null);
    assert.equal(calls[0][1], jwr);
  });

  test('an answer arriving after its request failed is ignored', () => {
    const { raw, socket } = connectedPair();
    const { calls, callback } = recorder();
    socket.get('/slow', callback);
    raw.drop();
    raw.answer(0, { body: 'late' });
    assert.equal(calls.length, 1);
    assert.equal(calls[0][1].statusCode, 0);
  });

  test('disconnect() by the page fails what waits and what is in flight; connect() starts again', async () => {
    const { raw, socket } = connectedPair();
    const inFlight = socket.get('/a');
    socket.disconnect();
    const queued = socket.get('/b');
    assert.equal(socket.isConnected(), false);
    assert.equal(socket.isConnecting(), false);
    socket.disconnect(); // the queued request fails, and disconnecting twice is harmless
    await assert.rejects(inFlight, (jwr) => /disconnected \(io client disconnect\)/.test(jwr.error.message));
    await assert.rejects(queued, (jwr) => /the page disconnected the socket; GET \/b was not sent/.test(jwr.error.message));
    socket.reconnect();
    assert.equal(raw.connectCalls, 1);
    assert.equal(socket.isConnecting(), true);
  });
});

describe('events', () => {
  test('on("message") and on(event) get what the server sends; off stops them', () => {
    const { raw, socket } = connectedPair();
    const messages = [];
    const users = [];
    const onMessage = (message) => messages.push(message);
    socket.on('message', onMessage);
    socket.on('user', (message) => users.push(message));
    raw.push('message', { model: 'todo', verb: 'create', id: 1, data: { id: 1 } });
    raw.push('user', { verb: 'created', id: 3 });
    socket.off('message', onMessage);
    raw.push('message', { verb: 'destroy', id: 1 });
    socket.off('user');
    raw.push('user', { verb: 'destroyed', id: 3 });
    assert.deepEqual(messages, [{ model: 'todo', verb: 'create', id: 1, data: { id: 1 } }]);
    assert.deepEqual(users, [{ verb: 'created', id: 3 }]);
  });

  test('listeners added before connecting hear events after it; once() hears one', () => {
    const raw = new FakeRawSocket();
    const socket = new SockpubSocket(() => raw);
    const heard = [];
    socket.on('message', (m) => heard.push(`on ${m}`));
    socket.once('message', (m) => heard.push(`once ${m}`));
    socket.connect();
    raw.open();
    raw.push('message', 'a');
    raw.push('message', 'b');
    assert.deepEqual(heard, ['on a', 'once a', 'on b']);
    socket.removeAllListeners();
    raw.push('message', 'c');
    assert.equal(heard.length, 3);
  });

  test('a listener that throws does not stop the next one', () => {
    const { raw, socket, errors } = connectedPair();
    const heard = [];
    socket.on('message', () => {
      throw new Error('first listener broke');
    });
    socket.on('message', (m) => heard.push(m));
    raw.push('message', 'hello');
    assert.deepEqual(heard, ['hello']);
    assert.equal(errors[0].message, 'first listener broke');
  });

  test('connect, disconnect, reconnecting and reconnect are told to the page', () => {
    const { raw, socket } = connectedPair({ open: false });
    const events = [];
    for (const name of ['connect', 'disconnect', 'reconnecting', 'reconnect']) {
      socket.on(name, (arg) => events.push(arg === undefined ? name : `${name} ${JSON.stringify(arg)}`));
    }
    raw.open();
    raw.drop('transport close');
    raw.attempt(1);
    raw.attempt(2);
    raw.open();
    assert.deepEqual(events, [
      'connect',
      'disconnect "transport close"',
      'reconnecting 1',
      'reconnecting 2',
      'connect',
      'reconnect {"resubscribed":0}',
    ]);
  });
});

describe('resubscription after a reconnect', () => {
  test('GETs answered with the subscribed header go again, and their callbacks hear the new answer', async () => {
    const { raw, socket } = connectedPair();
    const { calls, callback } = recorder();
    const listed = socket.get('/todo', { limit: 5 }, callback);
    socket.get('/echo', { message: 'hi' }, () => {});
    raw.answer(0, { body: [{ id: 1 }], headers: SUBSCRIBED });
    raw.answer(1, { body: { message: 'hi' } });
    assert.deepEqual(await listed, [{ id: 1 }]);

    raw.drop();
    raw.open();
    assert.deepEqual(raw.sentRequests().slice(2), ['GET /todo']);
    assert.deepEqual(raw.sent[2].payload.data, { limit: 5 });
    raw.answer(2, { body: [{ id: 1 }, { id: 2 }], headers: SUBSCRIBED });
    assert.deepEqual(calls.map(([body]) => body), [[{ id: 1 }], [{ id: 1 }, { id: 2 }]]);
    assert.deepEqual(await listed, [{ id: 1 }], 'the promise settles once');
  });

  test('reconnect tells the page how many requests went again', () => {
    const { raw, socket } = connectedPair();
    const told = [];
    socket.on('reconnect', (info) => told.push(info));
    socket.get('/chat/lobby/join');
    socket.get('/todo');
    raw.answer(0, { body: {}, headers: SUBSCRIBED });
    raw.answer(1, { body: [], headers: { 'x-sockpub-subscribed': '1' } });
    raw.drop();
    raw.open();
    assert.deepEqual(told, [{ resubscribed: 2 }]);
  });

  test('only GETs go again: a POST that subscribed does not', () => {
    const { raw, socket } = connectedPair();
    socket.post('/todo', { title: 'x' });
    raw.answer(0, { body: { id: 1 }, statusCode: 201, headers: SUBSCRIBED });
    raw.drop();
    raw.open();
    assert.equal(raw.sent.length, 1);
  });

  test('the same GET asked twice goes again once, with its latest callback', () => {
    const { raw, socket } = connectedPair();
    const first = recorder();
    const second = recorder();
    socket.get('/todo', first.callback);
    socket.get('/todo', second.callback);
    raw.answer(0, { body: ['a'], headers: SUBSCRIBED });
    raw.answer(1, { body: ['a'], headers: SUBSCRIBED });
    raw.drop();
    raw.open();
    assert.deepEqual(raw.sentRequests(), ['GET /todo', 'GET /todo', 'GET /todo']);
    raw.answer(2, { body: ['a', 'b'], headers: SUBSCRIBED });
    assert.equal(first.calls.length, 1);
    assert.deepEqual(second.calls.map(([body]) => body), [['a'], ['a', 'b']]);
  });

  test('a GET whose later answer no longer subscribes is forgotten', () => {
    const { raw, socket } = connectedPair();
    socket.get('/todo/1');
    raw.answer(0, { body: { id: 1 }, headers: SUBSCRIBED });
    raw.drop();
    raw.open();
    raw.answer(1, { body: { error: 'gone' }, statusCode: 404 });
    raw.drop();
    raw.open();
    assert.deepEqual(raw.sentRequests(), ['GET /todo/1', 'GET /todo/1']);
  });

  test('a resubscription cut off by another drop stays quiet and goes again next time', () => {
    const { raw, socket } = connectedPair();
    const { calls, callback } = recorder();
    socket.get('/todo', callback);
    raw.answer(0, { body: [], headers: SUBSCRIBED });
    raw.drop();
    raw.open(); // resubscription sent...
    raw.drop(); // ...and cut off
    assert.equal(calls.length, 1, 'the page callback never hears the failed resubscription');
    raw.open();
    assert.deepEqual(raw.sentRequests(), ['GET /todo', 'GET /todo', 'GET /todo']);
    raw.answer(2, { body: ['back'], headers: SUBSCRIBED });
    assert.deepEqual(calls.at(-1)[0], ['back']);
  });

  test('a subscribing GET the page asked again while offline goes once, with the queue', () => {
    const { raw, socket } = connectedPair();
    socket.get('/todo');
    raw.answer(0, { body: [], headers: SUBSCRIBED });
    raw.drop();
    const again = socket.get('/todo');
    raw.open();
    assert.deepEqual(raw.sentRequests(), ['GET /todo', 'GET /todo']);
    raw.answer(1, { body: ['x'], headers: SUBSCRIBED });
    return again.then((body) => assert.deepEqual(body, ['x']));
  });

  test('resubscriptions go before the requests queued while offline', () => {
    const { raw, socket } = connectedPair();
    socket.get('/todo');
    raw.answer(0, { body: [], headers: SUBSCRIBED });
    raw.drop();
    socket.post('/todo', { title: 'written offline' });
    raw.open();
    assert.deepEqual(raw.sentRequests(), ['GET /todo', 'GET /todo', 'POST /todo']);
  });

  test('nothing goes again on the first connection', () => {
    const { raw, socket } = connectedPair({ open: false });
    socket.get('/todo');
    raw.open();
    assert.deepEqual(raw.sentRequests(), ['GET /todo']);
  });
});

describe('resubscription after a change of identity', () => {
  test('an answer saying the identity changed sends the subscribing GETs again', () => {
    const { raw, socket } = connectedPair();
    const { calls, callback } = recorder();
    const told = [];
    socket.on('identity', (info) => told.push(info));
    socket.get('/inbox', callback);
    socket.get('/echo', () => {});
    raw.answer(0, { body: { inbox: 'alice' }, headers: SUBSCRIBED });
    raw.answer(1, { body: {} });
    socket.post('/logout');
    raw.answer(2, { body: { user: null }, headers: { [IDENTITY_CHANGED_HEADER]: '1' } });
    assert.deepEqual(raw.sentRequests(), ['GET /inbox', 'GET /echo', 'POST /logout', 'GET /inbox']);
    assert.deepEqual(told, [{ resubscribed: 1 }]);
    raw.answer(3, { body: { error: 'not logged in' }, statusCode: 401 });
    assert.deepEqual(calls.map(([body]) => body), [{ inbox: 'alice' }, { error: 'not logged in' }]);
    // Refused this time: not subscribing any more, so not sent again next time.
    socket.post('/login', { name: 'bob' });
    raw.answer(4, { body: {}, headers: { [IDENTITY_CHANGED_HEADER]: '1' } });
    assert.equal(raw.sent.length, 5);
  });

  test('the identity event from the server does the same, and is not a page event', () => {
    const { raw, socket } = connectedPair();
    const heard = [];
    socket.on(IDENTITY_EVENT, () => heard.push('raw'));
    socket.on('identity', (info) => heard.push(info));
    socket.get('/inbox');
    raw.answer(0, { body: {}, headers: SUBSCRIBED });
    raw.push(IDENTITY_EVENT, { rooms: 'left' });
    assert.deepEqual(raw.sentRequests(), ['GET /inbox', 'GET /inbox']);
    assert.deepEqual(heard, [{ resubscribed: 1 }]);
  });

  test('a rotated session is followed with one HTTP request', async () => {
    const raw = new FakeRawSocket();
    const followed = [];
    const socket = new SockpubSocket(() => raw, {
      followSession: (url) => {
        followed.push(url);
        return Promise.resolve();
      },
    });
    socket.connect();
    raw.open();
    const login = socket.post('/login', { name: 'alice' });
    raw.answer(0, {
      body: { user: 'alice' },
      headers: { [IDENTITY_CHANGED_HEADER]: '1', [SESSION_FOLLOW_HEADER]: '/sockpub/session/abc' },
    });
    assert.deepEqual(await login, { user: 'alice' });
    assert.deepEqual(followed, ['/sockpub/session/abc']);
  });
});
