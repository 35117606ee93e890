// Builds the browser SDK: flask_sockpub/static/src (our code) and socket.io-client
// (from node_modules) bundled by esbuild into flask_sockpub/static/dist/sockpub.js,
// which the extension serves and wheels carry. Run by `npm run build`.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const BANNER = `/*! sockpub.js, the browser SDK of flask_sockpub (MIT).
 * Built by \`npm run build\`; do not edit. Bundles socket.io-client, engine.io-client,
 * socket.io-parser and engine.io-parser (MIT, Copyright (c) 2014-present Guillermo Rauch
 * and Socket.IO contributors) and @socket.io/component-emitter (MIT, Copyright (c) 2014
 * Component contributors). */`;

await build({
  absWorkingDir: root,
  entryPoints: ['flask_sockpub/static/src/browser.mjs'],
  outfile: 'flask_sockpub/static/dist/sockpub.js',
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2019',
  banner: { js: BANNER },
  legalComments: 'eof',
  logLevel: 'warning',
});
