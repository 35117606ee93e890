// A stand-in for a socket.io-client socket, driven by the tests: they decide
// when it connects, drops, answers a request or receives an event.

class Emitter {
  constructor() {
    this.handlers = new Map();
  }

  on(event, fn) {
    this.handlers.set(event, [...(this.handlers.get(event) || []), fn]);
    return this;
  }

  trigger(event, ...args) {
    for (const fn of this.handlers.get(event) || []) fn(...args);
  }
}

export class FakeRawSocket extends Emitter {
  constructor() {
    super();
    this.connected = false;
    this.active = true;
    this.io = new Emitter(); // the Manager, which announces reconnection attempts
    this.anyHandlers = [];
    this.sent = []; // {event, payload, ack}
    this.connectCalls = 0;
  }

  // The socket.io-client API the SDK uses.

  onAny(fn) {
    this.anyHandlers.push(fn);
    return this;
  }

  emit(event, payload, ack) {
    if (!this.connected) throw new Error(`emit(${event}) on a fake socket that is not connected`);
    this.sent.push({ event, payload, ack });
    return this;
  }

  connect() {
    this.connectCalls += 1;
    this.active = true;
    return this;
  }

  disconnect() {
    this.active = false;
    if (this.connected) this.drop('io client disconnect');
    return this;
  }

  // What the tests make happen.

  open() {
    this.connected = true;
    this.trigger('connect');
  }

  drop(reason = 'transport close') {
    this.connected = false;
    this.trigger('disconnect', reason);
  }

  refuse(message) {
    this.active = false;
    this.trigger('connect_error', new Error(message));
  }

  failToReach() {
    this.trigger('connect_error', new Error('websocket error'));
  }

  attempt(number) {
    this.io.trigger('reconnect_attempt', number);
  }

  push(event, ...args) {
    for (const fn of this.anyHandlers) fn(event, ...args);
  }

  /** Answer the request sent `index`-th (negative: from the end) with a JWR. */
  answer(index, { body = null, statusCode = 200, headers = {} } = {}) {
    const sending = this.sent.at(index);
    sending.ack({ body, statusCode, headers });
  }

  /** The requests sent so far as "METHOD url". */
  sentRequests() {
    return this.sent.map(({ payload }) => `${payload.method} ${payload.url}`);
  }
}
