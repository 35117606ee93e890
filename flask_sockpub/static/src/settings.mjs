// The settings of sockpub.js: `io.sails`, as in sails.io.js 1.x. A page changes
// them in an inline script right after the SDK's <script> tag (the global
// socket connects on the next tick), or as attributes of that tag:
//
//   <script src="/sockpub/sockpub.js" autoconnect="false" environment="production"></script>

/** Settings that may be given as attributes of the script tag (lower case, or with data-). */
export const TAG_SETTINGS = ['autoConnect', 'environment', 'headers', 'url', 'transports', 'path', 'reconnection'];

/**
 * The defaults: connect to the server that served the script, over WebSocket,
 * reconnecting with exponential back-off (1 s doubling up to 5 s) and jitter (+-50%).
 */
export function defaultSettings(scriptSrc) {
  return {
    url: originOf(scriptSrc),
    autoConnect: true,
    environment: 'development',
    headers: {},
    transports: ['websocket'],
    path: '/socket.io',
    query: undefined,
    auth: undefined,
    reconnection: true,
    reconnectionAttempts: Infinity,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
    timeout: 20000,
  };
}

/** Settings read from the attributes of a script element. */
export function scriptTagSettings(element) {
  const settings = {};
  if (!element || typeof element.getAttribute !== 'function') return settings;
  for (const name of TAG_SETTINGS) {
    const lower = name.toLowerCase();
    const text = element.getAttribute(lower) ?? element.getAttribute(`data-${lower}`);
    if (text !== null && text !== undefined) settings[name] = attributeValue(text);
  }
  return settings;
}

/** The options given to socket.io-client's io() for these settings. */
export function rawOptions(settings) {
  const options = {
    path: settings.path,
    transports: settings.transports,
    reconnection: settings.reconnection !== false,
    reconnectionAttempts: settings.reconnectionAttempts,
    reconnectionDelay: settings.reconnectionDelay,
    reconnectionDelayMax: settings.reconnectionDelayMax,
    randomizationFactor: settings.randomizationFactor,
    timeout: settings.timeout,
    // Each socket its own connection, as with sails.io.js.
    forceNew: true,
  };
  if (settings.query !== undefined) options.query = settings.query;
  if (settings.auth !== undefined) options.auth = settings.auth;
  return options;
}

// "false" -> false, '{"a": 1}' -> {a: 1}, anything else stays text.
function attributeValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function originOf(src) {
  if (!src) return undefined;
  try {
    return new URL(src).origin;
  } catch {
    return undefined;
  }
}
