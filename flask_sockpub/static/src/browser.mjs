// sockpub.js, the entry point of the bundle: one <script> tag gives the page a
// global `socket` connected to the server that served the script, also
// reachable as `io.socket` with sails.io.js 1.x's call shapes, and `io.sails`
// (settings, and connect() for more sockets).

import { io } from 'socket.io-client';

import { defaultSettings, rawOptions, scriptTagSettings } from './settings.mjs';
import { SockpubSocket } from './socket.mjs';

const script = document.currentScript;

io.sails = {
  ...defaultSettings(script && script.src),
  ...scriptTagSettings(script),
  sdk: { name: 'sockpub.js', platform: 'browser' },
  /** A new socket with these settings changed (sails.io.js: io.sails.connect([url], [options])). */
  connect(url, options) {
    if (url && typeof url === 'object') {
      options = url;
      url = undefined;
    }
    const settings = { ...io.sails, ...options };
    settings.url = url || settings.url;
    return socketFor(() => settings).connect();
  },
};

function log(message) {
  if (io.sails.environment !== 'production') console.info(`sockpub.js: ${message}`);
}

// A socket request rotated the server-side session: one POST to the one-time
// URL it named gives the page's cookie the new session (a socket answer cannot
// set an HttpOnly cookie).
function followSession(settings, url) {
  const base = settings.url || window.location.href;
  return fetch(new URL(url, base), { method: 'POST', credentials: 'include' }).then((response) => {
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    log('the page follows the rotated session');
    return response;
  });
}

// Settings are read when the socket first connects, so the page can still change io.sails before.
function socketFor(currentSettings) {
  const socket = new SockpubSocket(
    () => {
      const settings = currentSettings();
      socket.headers = { ...settings.headers };
      const options = rawOptions(settings);
      return settings.url === undefined ? io(options) : io(settings.url, options);
    },
    { log, followSession: (url) => followSession(currentSettings(), url) },
  );
  return socket;
}

// The eager socket exists at once, so a page can make requests (queued) and
// add listeners right away; it connects on the next tick, leaving the page's
// inline script time to change io.sails or set io.sails.autoConnect = false.
const socket = socketFor(() => io.sails);
let autoConnectPending = true;
socket.mightBeAboutToAutoConnect = () => autoConnectPending;
io.socket = socket;
window.io = io;
window.socket = socket;

setTimeout(() => {
  autoConnectPending = false;
  if (io.sails.autoConnect === false || io.sails.autoconnect === false) {
    delete io.socket;
    if (window.socket === socket) delete window.socket;
    return;
  }
  socket.connect();
}, 0);
