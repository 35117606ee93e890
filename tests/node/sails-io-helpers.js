// The official sails.io.js client set up on socket.io-client 4, and helpers for
// the Node tests (tests/node/*.test.js) that drive a running server with it.
'use strict';

const socketIOClient = require('socket.io-client');
const sailsIOClient = require('sails.io.js');

const SERVER_URL = process.env.SOCKPUB_SERVER_URL;
if (!SERVER_URL) {
  throw new Error('set SOCKPUB_SERVER_URL to the URL of a running server');
}

// Options a SailsSocket gives socket.io-client (its SOCKET_OPTIONS, plus the two
// it computes in _connect()).
const CONNECTION_OPTIONS = [
  'path', 'query', 'transports', 'reconnection', 'reconnectionAttempts', 'reconnectionDelay',
  'reconnectionDelayMax', 'randomizationFactor', 'timeout', 'multiplex', 'rejectUnauthorized',
  'extraHeaders', 'transportOptions',
];

// sails.io.js calls io(url, sailsSocket), handing over the SailsSocket itself as the
// options, and keeps most options in non-enumerable accessors. socket.io-client 4
// copies its options (Object.assign), which sees none of those, so it is given a
// plain copy. (The SDK's bundled socket.io-client 2 speaks Engine.IO 3, which
// python-socketio 5 refuses; the unbundled sails.io.js takes any `io`.)
function socketIOWithPlainOptions(url, sailsSocket) {
  const options = {};
  for (const name of CONNECTION_OPTIONS) {
    if (sailsSocket[name] !== undefined) {
      options[name] = sailsSocket[name];
    }
  }
  return socketIOClient(url, options);
}

const io = sailsIOClient(socketIOWithPlainOptions);
io.sails.url = SERVER_URL; // before the SDK connects io.socket, on the next tick
io.sails.environment = 'production'; // no connection banners in the test output

// The SDK's callback style, (body, jwr), as a promise of both.
function request(socket, method, url, data) {
  return new Promise((resolve) => {
    const done = (body, jwr) => resolve({ body, jwr });
    if (data === undefined) {
      socket[method](url, done);
    } else {
      socket[method](url, data, done);
    }
  });
}

// The first event `event` a socket receives, or a rejection after `ms` milliseconds.
function nextEvent(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event within ${ms} ms`)), ms);
    socket.on(event, function received(data) {
      clearTimeout(timer);
      socket.off(event, received);
      resolve(data);
    });
  });
}

module.exports = { io, request, nextEvent, SERVER_URL };
