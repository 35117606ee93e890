"""flask_sockpub: Sails.js-style realtime for Flask.

HTTP and Socket.IO are interoperable (one view answers both), models get class
and instance rooms, and CRUD blueprints publish every change.
"""

from __future__ import annotations

from .cluster import Subscribers
from .emitter import Emitter, ModelEmitter
from .extension import SockPub
from .params import param
from .rooms.model_rooms import ModelRooms, PubSub
from .rooms.names import user_room
from .rooms.user_rooms import broadcast, listen
from .scopes import ScopeError
from .serialize import serialize
from .sockets import Socket, current_socket
from .wire.jwr import Response, SocketResponse

__version__ = "0.1.0"

__all__ = [
    "Emitter",
    "ModelEmitter",
    "ModelRooms",
    "PubSub",
    "Response",
    "ScopeError",
    "SockPub",
    "Socket",
    "SocketResponse",
    "Subscribers",
    "broadcast",
    "current_socket",
    "listen",
    "param",
    "serialize",
    "user_room",
]
