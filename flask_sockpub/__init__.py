"""flask_sockpub: Sails.js-style realtime for Flask.

HTTP and Socket.IO are interoperable (one view answers both), models get class
and instance rooms, and CRUD blueprints publish every change.
"""

from __future__ import annotations

from .extension import SockPub
from .jwr import Response
from .params import param
from .pubsub import ModelRooms, PubSub
from .rooms import broadcast, listen, user_room
from .serialize import serialize
from .sockets import Socket, current_socket

__version__ = "0.1.0"

__all__ = [
    "ModelRooms",
    "PubSub",
    "Response",
    "SockPub",
    "Socket",
    "broadcast",
    "current_socket",
    "listen",
    "param",
    "serialize",
    "user_room",
]
