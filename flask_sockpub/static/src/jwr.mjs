// The JWR (JSON WebSocket Response): the answer to a socket request, handed to
// callbacks as their second argument, as sails.io.js 1.x does.

export class JWR {
  /**
   * @param {{body?: any, statusCode?: number, headers?: object}} answer what the server acknowledged
   * @param {string} [failure] why the request failed without an answer (statusCode 0)
   */
  constructor(answer, failure) {
    const { body = null, statusCode = 200, headers = {} } = answer || {};
    this.body = body;
    this.statusCode = statusCode;
    this.headers = headers || {};
    if (failure) {
      this.error = new Error(failure);
    } else if (statusCode < 200 || statusCode >= 400) {
      const detail = body && typeof body === 'object' && typeof body.error === 'string' ? body.error : JSON.stringify(body);
      this.error = new Error(`the server answered ${statusCode}: ${detail}`);
    }
  }

  /** True for a status from 200 to 399. */
  get ok() {
    return !this.error;
  }

  /** The value of a response header, whatever the case of its name. */
  header(name) {
    const wanted = name.toLowerCase();
    for (const key of Object.keys(this.headers)) {
      if (key.toLowerCase() === wanted) return this.headers[key];
    }
    return undefined;
  }

  toPOJO() {
    return { body: this.body, statusCode: this.statusCode, headers: this.headers };
  }

  toString() {
    return `[JWR ${this.statusCode}${this.error ? ` ${this.error.message}` : ''}]`;
  }
}

/** A JWR for a request that got no answer: statusCode 0 and ``error`` saying why. */
export function failedJWR(reason) {
  return new JWR({ body: null, statusCode: 0, headers: {} }, reason);
}
