// The benchmark's Sails peer: `node app.js PORT` (run from bench/.sails/, where
// bench/sails.py copied this folder and installed its packages).
//
// A Sails 1 app as `sails new --no-frontend` makes one, minus the asset
// pipeline and views: the router, sessions (memory store), policies, the ORM
// with sails-disk (its files in BENCH_DATA_DIR), blueprints, pubsub, and
// sails-hook-sockets answering sails.io.js requests. What it serves:
//   GET /echo?message=hi   {"success": true, "message": "hi"} (api/controllers/echo.js)
//   GET /item              the blueprint find: subscribes a socket to the class room
//   POST /item             the blueprint create: publishes `item` {verb: "created"} to it
// Once lifted it prints one line, `BENCH-SETTINGS {json}`, as bench/serve.py does.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const sails = require("sails");

const port = Number(process.argv[2]);
const dataDir = process.env.BENCH_DATA_DIR || path.join(__dirname, ".tmp");

function version(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

sails.lift(
  {
    appPath: __dirname,
    port,
    explicitHost: "127.0.0.1",
    environment: "production",
    log: { level: "warn" },
    hooks: { grunt: false, views: false },
    session: { secret: "bench" },
    security: { csrf: false },
    sockets: { beforeConnect: (handshake, proceed) => proceed(undefined, true) },
    datastores: { default: { adapter: "sails-disk", dir: path.join(dataDir, "sails-disk") } },
    models: {
      datastore: "default",
      migrate: "safe",
      attributes: { id: { type: "number", autoIncrement: true } },
    },
    routes: { "GET /echo": { action: "echo" } },
    blueprints: { actions: false, rest: true, shortcuts: false },
  },
  (error) => {
    if (error) {
      console.error(error);
      process.exit(1);
    }
    const settings = {
      server: "sails",
      node: process.version,
      sails: version("sails"),
      "sails-hook-sockets": version("sails-hook-sockets"),
      "socket.io": version("socket.io"),
      "engine.io": version("engine.io"),
      ws: version("ws"),
      "sails-hook-orm": version("sails-hook-orm"),
      "sails-disk": version("sails-disk"),
      environment: sails.config.environment,
      transports: sails.config.sockets.transports,
      hooks: Object.keys(sails.hooks).sort(),
      session_store: sails.config.session.store ? sails.config.session.store.constructor.name : null,
    };
    console.log("BENCH-SETTINGS " + JSON.stringify(settings));
  },
);
