"""Connections and serving: the Socket.IO server, its middleware, origins, the SDK route."""
