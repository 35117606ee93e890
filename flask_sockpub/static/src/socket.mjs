// SockpubSocket: socket requests (get/post/put/patch/delete) and server events
// over one socket.io-client socket, the way sails.io.js 1.x shapes them, plus
// what sails.io.js never did: after a reconnect, the GET requests that had
// subscribed the socket to rooms are sent again, so the page keeps hearing
// those rooms and its lists catch up. The same happens when the identity of
// the socket's session changes (a login or logout): the server has taken the
// socket out of every room, and the subscribing requests run again under the
// new identity. When such a change rotated a server-side session, the SDK
// makes one HTTP request that gives the page the new session cookie.
//
// The raw socket comes from a function given to the constructor, so the logic
// here runs against a fake socket in tests (tests/js/); browser.mjs gives it
// socket.io-client's io().

import { JWR, failedJWR } from './jwr.mjs';

/** The JWR header the server sets on the answer to a request that subscribed its socket. */
export const SUBSCRIBED_HEADER = 'X-Sockpub-Subscribed';

/** The JWR header on the answer to a request during which the session's identity changed. */
export const IDENTITY_CHANGED_HEADER = 'X-Sockpub-Identity-Changed';

/** The JWR header naming the one-time URL that gives the page a rotated session's cookie. */
export const SESSION_FOLLOW_HEADER = 'X-Sockpub-Session-Follow';

/** The event the server sends when the identity changed outside the socket's own requests. */
export const IDENTITY_EVENT = 'sockpub:identity-changed';

/** Request methods, each also a method of the socket: socket.get(url, [data], [callback]). */
export const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

const USAGE = 'usage: socket.request({method, url, data, headers}, [callback]) or socket.get(url, [data], [callback])';

export class SockpubSocket {
  /**
   * @param {() => object} openRaw makes the socket.io-client socket (and starts connecting it)
   * @param {{headers?: object, log?: (message: string) => void, reportError?: (error: Error) => void,
   *   followSession?: (url: string) => Promise<any>}} [options]
   *   headers: sent with every request (a request's own headers win);
   *   reportError: gets what a page's callback or listener threw (default: reported as uncaught);
   *   followSession: posts to a one-time URL so the page's cookie follows a rotated session
   */
  constructor(openRaw, { headers = {}, log = () => {}, reportError = reportUncaught, followSession = null } = {}) {
    this.headers = headers;
    this._followSession = followSession;
    this._openRaw = openRaw;
    this._log = log;
    this._reportError = reportError;
    this._raw = null;
    this._connecting = false;
    this._everConnected = false;
    this._listeners = new Map(); // event -> [fn]
    this._queue = []; // requests made while not connected, in order
    this._inFlight = new Set(); // requests sent and not answered yet
    this._subscriptions = new Map(); // key -> GET request whose answer carried SUBSCRIBED_HEADER
    for (const method of METHODS) {
      this[method] = (url, data, callback) => this._shorthand(method, url, data, callback);
    }
  }

  /** Start connecting (again, after disconnect()). Requests made meanwhile are queued. */
  connect() {
    if (this.isConnected() || this._connecting) return this;
    this._connecting = true;
    if (this._raw) {
      this._raw.connect();
      return this;
    }
    const raw = this._openRaw();
    this._raw = raw;
    raw.on('connect', () => this._connected());
    raw.on('disconnect', (reason) => this._disconnected(reason));
    raw.on('connect_error', (error) => this._failedToConnect(error));
    raw.onAny((event, ...args) => {
      if (event === IDENTITY_EVENT) {
        this._identityChanged();
      } else {
        this._fire(event, ...args);
      }
    });
    // socket.io-client's Manager retries with exponential back-off and jitter.
    if (raw.io && typeof raw.io.on === 'function') {
      raw.io.on('reconnect_attempt', (attempt) => this._fire('reconnecting', attempt));
    }
    return this;
  }

  /** sails.io.js's name for connecting again after disconnect(). */
  reconnect() {
    return this.connect();
  }

  /** Close the socket for good (until connect()); requests waiting for it fail. */
  disconnect() {
    this._connecting = false;
    this._failQueue('the page disconnected the socket');
    if (this._raw) this._raw.disconnect();
    return this;
  }

  isConnected() {
    return Boolean(this._raw && this._raw.connected);
  }

  isConnecting() {
    return this._connecting;
  }

  /** The socket.io-client socket underneath (null before connect()). */
  get raw() {
    return this._raw;
  }

  /**
   * Make a socket request; `callback(body, jwr)` gets the answer.
   *
   * @param {{method?: string, url: string, data?: any, params?: any, headers?: object}} options
   * @returns {Promise<any>} the body; rejects with the JWR on a status of 400 or more,
   *   or when the socket disconnects before the answer comes (statusCode 0).
   */
  request(options, callback) {
    const request = this._checked(options, callback);
    const promise = new Promise((resolve, reject) => {
      request.resolve = resolve;
      request.reject = reject;
    });
    // A page that passed a callback handles failures there; it should not also
    // see "unhandled rejection" for a promise it never looked at. Awaiting the
    // promise still throws.
    if (callback) promise.catch(() => {});
    if (this.isConnected()) {
      this._send(request);
    } else {
      this._queue.push(request);
    }
    return promise;
  }

  /** Listen for a server event ("message", a model identity...) or a connection event. */
  on(event, fn) {
    if (typeof fn !== 'function') throw new TypeError(`socket.on(${JSON.stringify(event)}, fn): fn must be a function`);
    const listeners = this._listeners.get(event) || [];
    listeners.push(fn);
    this._listeners.set(event, listeners);
    return this;
  }

  /** Listen once. */
  once(event, fn) {
    const wrapper = (...args) => {
      this.off(event, wrapper);
      fn(...args);
    };
    wrapper.listener = fn;
    return this.on(event, wrapper);
  }

  /** Stop listening: one function, or every listener of `event` when `fn` is left out. */
  off(event, fn) {
    if (fn === undefined) {
      this._listeners.delete(event);
      return this;
    }
    const listeners = (this._listeners.get(event) || []).filter((f) => f !== fn && f.listener !== fn);
    if (listeners.length) {
      this._listeners.set(event, listeners);
    } else {
      this._listeners.delete(event);
    }
    return this;
  }

  removeAllListeners() {
    this._listeners.clear();
    return this;
  }

  _shorthand(method, url, data, callback) {
    if (typeof data === 'function' && callback === undefined) {
      callback = data;
      data = undefined;
    }
    return this.request({ method, url, data }, callback);
  }

  _checked(options, callback) {
    if (callback !== undefined && typeof callback !== 'function') {
      throw new TypeError(`the callback must be a function; ${USAGE}`);
    }
    if (!options || typeof options !== 'object' || typeof options.url !== 'string') {
      throw new TypeError(`a request needs a url (a string); ${USAGE}`);
    }
    if (options.method !== undefined && typeof options.method !== 'string') {
      throw new TypeError(`method must be a string like "post"; ${USAGE}`);
    }
    const method = (options.method || 'get').toLowerCase();
    if (options.data !== undefined && options.params !== undefined) {
      throw new TypeError('give data or params (its sails.io.js alias), not both');
    }
    const data = options.data !== undefined ? options.data : options.params;
    if (data !== undefined && data !== null && typeof data !== 'object') {
      throw new TypeError(`data must be an object or an array; ${USAGE}`);
    }
    if (options.headers !== undefined && (options.headers === null || typeof options.headers !== 'object')) {
      throw new TypeError(`headers must be an object of strings; ${USAGE}`);
    }
    const headers = { ...this.headers, ...options.headers };
    const payload = { method: method.toUpperCase(), url: options.url, headers };
    if (data !== undefined && data !== null) payload.data = data;
    return {
      method,
      payload,
      callback,
      // What makes two GETs the same subscription.
      key: JSON.stringify([method, options.url, payload.data, headers]),
      settled: false,
    };
  }

  // One sending of a request; a resubscription sends the same request again.
  _send(request, { resubscription = false } = {}) {
    const sending = { request, resubscription };
    this._inFlight.add(sending);
    this._raw.emit(request.method, request.payload, (answer) => {
      if (!this._inFlight.delete(sending)) return; // failed by a disconnect already
      this._answered(request, new JWR(answer));
    });
  }

  _answered(request, jwr) {
    const follow = jwr.header(SESSION_FOLLOW_HEADER);
    if (follow && this._followSession) {
      // Before anything else: the page's next HTTP request must carry the new session.
      this._followSession(follow).catch((error) => this._log(`could not follow the rotated session: ${error}`));
    }
    if (request.method === 'get') {
      if (jwr.header(SUBSCRIBED_HEADER)) {
        this._subscriptions.set(request.key, request);
      } else {
        this._subscriptions.delete(request.key);
      }
    }
    this._settle(request, jwr);
    if (jwr.header(IDENTITY_CHANGED_HEADER)) this._identityChanged();
  }

  // The server took the socket out of every room: subscribe again as the new
  // identity, by sending each subscribing request again (the one whose answer
  // said so too: joining again is harmless). Their callbacks get the new answers.
  _identityChanged() {
    let resubscribed = 0;
    for (const request of [...this._subscriptions.values()]) {
      if (this.isConnected()) {
        this._send(request, { resubscription: true });
        resubscribed += 1;
      }
    }
    this._log(`identity changed; ${resubscribed} subscribing request(s) sent again`);
    this._fire('identity', { resubscribed });
  }

  _settle(request, jwr) {
    if (request.callback) {
      this._guarded(() => request.callback(jwr.body, jwr));
    }
    if (!request.settled) {
      request.settled = true;
      if (jwr.error) {
        request.reject(jwr);
      } else {
        request.resolve(jwr.body);
      }
    }
  }

  _connected() {
    this._connecting = false;
    const reconnected = this._everConnected;
    this._everConnected = true;
    const queued = this._queue.splice(0);
    let resubscribed = 0;
    if (reconnected) {
      // A GET the page asked again while offline goes with the queue, once.
      const asked = new Set(queued.map((request) => request.key));
      for (const request of this._subscriptions.values()) {
        if (!asked.has(request.key)) {
          this._send(request, { resubscription: true });
          resubscribed += 1;
        }
      }
    }
    for (const request of queued) this._send(request);
    this._log(reconnected ? `reconnected; ${resubscribed} subscribing request(s) sent again` : 'connected');
    this._fire('connect');
    if (reconnected) this._fire('reconnect', { resubscribed });
  }

  _disconnected(reason) {
    // socket.io-client stays active, and tries again, unless the page or the
    // server closed the socket on purpose.
    this._connecting = Boolean(this._raw && this._raw.active);
    const dropped = [...this._inFlight];
    this._inFlight.clear();
    for (const { request, resubscription } of dropped) {
      // A resubscription stays remembered and goes again on the next
      // reconnect; its callback only ever hears real answers.
      if (resubscription) continue;
      const { method, url } = request.payload;
      this._settle(request, failedJWR(`the socket disconnected (${reason}) before ${method} ${url} was answered`));
    }
    this._log(`disconnected (${reason})`);
    this._fire('disconnect', reason);
  }

  _failedToConnect(error) {
    this._fire('connect_error', error);
    // socket.io-client gives up (active turns false) when the server refused
    // the socket; requests waiting for it would wait forever.
    if (this._raw && this._raw.active === false) {
      this._connecting = false;
      this._failQueue(`the server refused the socket: ${error && error.message}`);
    }
  }

  _failQueue(reason) {
    for (const request of this._queue.splice(0)) {
      const { method, url } = request.payload;
      this._settle(request, failedJWR(`${reason}; ${method} ${url} was not sent`));
    }
  }

  // A failing page callback must not stop the other callbacks, nor the SDK's bookkeeping.
  _guarded(fn) {
    try {
      fn();
    } catch (error) {
      this._reportError(error);
    }
  }

  _fire(event, ...args) {
    for (const fn of [...(this._listeners.get(event) || [])]) {
      this._guarded(() => fn(...args));
    }
  }
}

function reportUncaught(error) {
  setTimeout(() => {
    throw error;
  }, 0);
}
