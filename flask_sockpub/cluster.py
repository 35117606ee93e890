"""What several server processes need beyond Flask-SocketIO's queue.

With ``SOCKPUB_MESSAGE_QUEUE`` set, python-socketio's manager carries every
emit to every process. SockPub adds messages of its own on the same channel,
so that the queue keeps their order with the emits around them:

* room operations that each process applies to the sockets it holds:
  ``introduce`` (``publish_create`` introduces too), emptying the room of a
  destroyed instance (but ``omit``), a publish of a model with scopes
  (``publish``: each process decides which of its scoped rooms hear it,
  :mod:`flask_sockpub.rooms.scoped`), subscribing and unsubscribing a socket
  held by another process. Every process applies each one to its own
  sockets when the queue delivers it (the sender too), so every socket is
  reached exactly once, and a socket introduced to an instance is in its room
  before any later update of that instance arrives;
* questions that every live process answers: who is in a room
  (``subscribers``), which rooms it holds and how many of its sockets are in
  each (``flask sockpub rooms``), who holds a socket (a subscribe of a socket
  held elsewhere);
* heartbeats, by which each process knows which others are alive.

The queue is the one order: every process, the publisher included, delivers
emits and applies room operations as the queue delivers them
(:class:`~flask_sockpub.internals.QueueHooks`), so what one process published
after another's publish reached the queue is delivered after it everywhere.

Every message is a JSON object ``{"method": "sockpub", "op": ..., "host_id":
<sender>, ...}`` of strings, numbers, lists, objects and booleans;
python-socketio ignores a ``method`` it does not know, so a process without
SockPub on the same channel is not disturbed.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

import socketio
from flask import has_app_context

from .internals import QueueHooks, publish_on_queue, start_queue_listener
from .rooms.authorization import introduce_here
from .rooms.membership import emit, empty_room, enter, is_present, leave, members, room_sizes
from .rooms.names import NAMESPACE
from .rooms.scoped import PUBLISH_OP, apply_publish
from .sockets import Socket
from .state import app_state

if TYPE_CHECKING:
    from socketio.pubsub_manager import PubSubManager

logger = logging.getLogger("flask_sockpub")

#: The ``method`` of SockPub's messages on the queue.
METHOD = "sockpub"
#: Schemes python-socketio's Redis manager serves; any other URL but Kafka's
#: and ZeroMQ's goes to kombu (RabbitMQ's ``amqp://`` among them).
REDIS_SCHEMES = ("redis", "rediss", "valkey", "valkeys", "unix", "redis+sentinel")
#: Schemes Flask-SocketIO serves with managers SockPub does not extend.
FOREIGN_SCHEMES = ("kafka", "zmq", "zmq+tcp")


class RedisQueue(QueueHooks, socketio.RedisManager):
    """python-socketio's Redis manager, carrying SockPub's messages too."""


class KombuQueue(QueueHooks, socketio.KombuManager):
    """python-socketio's kombu manager (RabbitMQ and others), carrying SockPub's messages too."""


def queue_manager(url: str, channel: str, *, write_only: bool = False) -> PubSubManager | None:
    """The python-socketio manager SockPub uses for ``url``; ``None`` for a queue it does not extend.

    Over AMQP, publishes are confirmed by the broker before they return, so a
    message published after another (by any process, once the first one's
    publish returned) is never delivered before it.
    """
    scheme = urlparse(url).scheme.lower()
    if scheme in REDIS_SCHEMES:
        return RedisQueue(url, channel=channel, write_only=write_only)  # type: ignore[no-any-return]
    if scheme in FOREIGN_SCHEMES:
        return None
    options: dict[str, Any] = {}
    if scheme in ("amqp", "amqps", "pyamqp"):
        options["transport_options"] = {"confirm_publish": True}
    return KombuQueue(  # type: ignore[no-any-return]
        url, channel=channel, write_only=write_only, connection_options=options
    )


class Subscribers(list[Socket]):
    """The sockets in a room, across every server process, and whether the answer is whole.

    A list of :class:`~flask_sockpub.Socket`, so it is used as one; sockets
    held by other processes can be compared and sent to (``.emit``), but only
    those of this process know their rooms and handshake.

    ``complete`` is ``True`` when every live process answered in time (always
    with one process); ``False`` means some live process did not answer within
    the timeout, so sockets it holds may be missing.
    """

    def __init__(self, sockets: Sequence[Socket] = (), complete: bool = True) -> None:
        super().__init__(sockets)
        #: Whether every live process answered in time.
        self.complete = complete

    def __repr__(self) -> str:
        return f"Subscribers({list(self)!r}, complete={self.complete})"


class RoomSizes(dict[str, int]):
    """Each room of every server process (Socket.IO room names), and how many sockets are in it.

    ``complete`` says, as for :class:`Subscribers`, whether every live
    process answered in time; ``live`` and ``answered`` count them (the asking
    process among them).
    """

    def __init__(self, sizes: dict[str, int], live: int, answered: int) -> None:
        super().__init__(sizes)
        #: How many processes were live: known to the asker or to one that answered.
        self.live = live
        #: How many of them answered in time.
        self.answered = answered
        #: Whether every live process answered in time.
        self.complete = answered >= live


@dataclass
class _Question:
    """A question sent to the live processes, and the answers so far."""

    expected: set[str]
    answered: Any  # an event of the server's async mode
    stop_at_holder: bool = False
    #: Whether the processes an answer names as live are waited for too.
    grow: bool = False
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


class Cluster:
    """This process among the others on one queue: it sends SockPub's messages and applies theirs.

    Made by ``init_app`` when ``SOCKPUB_MESSAGE_QUEUE`` is set, and started at
    once: the process listens to the queue from startup, not from its first
    connection, so introduces meant for its first sockets are not missed.

    :param heartbeat_interval: seconds between this process's heartbeats.
    :param heartbeat_expiry: seconds after its last heartbeat a silent
        process counts as gone.
    :param timeout: how long a question waits for answers by default.
    """

    def __init__(
        self,
        server: socketio.Server,
        manager: PubSubManager,
        *,
        heartbeat_interval: float,
        heartbeat_expiry: float,
        timeout: float,
    ) -> None:
        self.server = server
        self.manager = manager
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_expiry = heartbeat_expiry
        self.timeout = timeout
        #: This process's id on the queue (python-socketio's ``host_id``).
        self.host_id: str = manager.host_id
        self._peers: dict[str, float] = {}
        self._questions: dict[str, _Question] = {}
        self._lock = threading.Lock()
        self._listening = server.eio.create_event()
        self._stopped = False
        self._receivers: dict[str, Callable[[dict[str, Any]], None]] = {
            "hello": self._hello,
            "heartbeat": self._heartbeat,
            "goodbye": self._goodbye,
            "introduce": self._introduce,
            PUBLISH_OP: self._publish,
            "empty": self._empty,
            "enter": self._enter,
            "leave": self._leave,
            "members": self._members,
            "rooms": self._rooms,
            "answer": self._answer,
        }
        # What this process applies of its own messages, when the queue delivers them.
        self._own_receivers = frozenset({"introduce", "empty", PUBLISH_OP, "members", "rooms"})

    # Life

    def start(self, ready_timeout: float = 10.0) -> bool:
        """Listen to the queue, wait until this process hears itself, greet the others, beat.

        :returns: whether the listener heard this process within ``ready_timeout``
            seconds (if not, a warning is logged and the process serves anyway).
        """
        self.manager.take_message = self.take  # type: ignore[attr-defined]
        start_queue_listener(self.server)
        deadline = time.monotonic() + ready_timeout
        # The listener subscribes in the background; a probe published before it
        # has subscribed is lost, so probe again until one comes back.
        while not self._listening.is_set() and time.monotonic() < deadline:
            self.send("probe")
            self._listening.wait(0.2)
        listening = bool(self._listening.is_set())
        if not listening:
            logger.warning(
                "the message queue did not deliver this process's own message within %s s; "
                "serving anyway, other processes' room operations may be missed meanwhile",
                ready_timeout,
            )
        self.send("hello")
        self.server.start_background_task(self._beat)
        # A process that ends normally (a CLI command, a server stopping)
        # is forgotten at once rather than at its heartbeat's expiry.
        atexit.register(self.stop)
        return listening

    def stop(self) -> None:
        """Stop beating and say goodbye: the others stop counting this process at once.

        Run at the interpreter's exit; a server draining before it stops may
        call it earlier.
        """
        if not self._stopped:
            self._stopped = True
            try:
                self.send("goodbye")
            except Exception:  # at exit, the queue may be gone already
                logger.warning("could not say goodbye on the message queue", exc_info=True)

    def _beat(self) -> None:
        while not self._stopped:
            self.server.sleep(self.heartbeat_interval)
            if self._stopped:
                break
            try:
                self.send("heartbeat")
            except Exception:  # the queue's manager logs its own failures; keep beating
                logger.exception("a heartbeat could not be sent")

    def wait_for_peers(self, timeout: float) -> bool:
        """Wait until another process is heard (each answers the hello of :meth:`start` at once).

        For a short-lived process (a CLI command) that asks a question right
        after it started: it knows no other process before then.

        :returns: whether one was heard within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not self.live_peers():
            if time.monotonic() >= deadline:
                return False
            self.server.sleep(0.02)
        return True

    def live_peers(self) -> set[str]:
        """The ids of the other processes heard from within the heartbeat expiry."""
        now = time.monotonic()
        with self._lock:
            for host, seen in list(self._peers.items()):
                if now - seen > self.heartbeat_expiry:
                    del self._peers[host]
            return set(self._peers)

    # Sending

    def send(self, op: str, **fields: Any) -> None:
        """Put one of SockPub's messages on the queue."""
        publish_on_queue(
            self.manager, {"method": METHOD, "op": op, "host_id": self.host_id, **fields}
        )

    def introduce(self, source: str, target: str, skip_sid: str | None) -> None:
        """Every socket of room ``source`` (but ``skip_sid``), on every process, joins room ``target``."""
        self.send("introduce", source=source, target=target, skip=skip_sid)

    def empty(self, room: str, keep_sid: str | None) -> None:
        """Every process takes its sockets out of ``room``, but ``keep_sid`` if it is a member."""
        self.send("empty", room=room, keep=keep_sid)

    def change_rooms(
        self, verb: str, socket: Socket, rooms: Sequence[str], timeout: float | None
    ) -> bool:
        """Ask the process holding ``socket`` (another one) to make it ``enter`` or ``leave`` ``rooms``.

        :returns: what that process answered; ``False`` when no live process
            said it holds the socket within ``timeout`` seconds.
        """
        question = self._ask(
            verb,
            timeout,
            stop_at_holder=True,
            sid=socket.id,
            namespace=socket.namespace,
            rooms=list(rooms),
        )
        return any(
            answer.get("held") and answer.get("done") for answer in question.answers.values()
        )

    def members(self, room: str, timeout: float | None) -> Subscribers:
        """The sockets of every live process in ``room``.

        This process answers too when the question comes back from the queue,
        so every answer counts the operations published before the question.
        """
        sids: list[str] = []
        question = self._ask("members", timeout, ask_self=True, room=room)
        for answer in question.answers.values():
            sids.extend(sid for sid in answer.get("sids", ()) if isinstance(sid, str))
        complete = question.expected <= question.answers.keys()
        return Subscribers([Socket(self.server, sid, NAMESPACE) for sid in sids], complete)

    def room_sizes(self, timeout: float | None) -> RoomSizes:
        """Every room of every live process, and how many sockets are in it.

        Each process answers with its rooms and the processes it knows alive,
        which are waited for too: a process that has just joined and heard few
        heartbeats yet (a CLI command) gets a complete answer all the same.
        """
        sizes: dict[str, int] = {}
        question = self._ask("rooms", timeout, ask_self=True, grow=True)
        for answer in question.answers.values():
            rooms = answer.get("rooms")
            for room, size in rooms.items() if isinstance(rooms, dict) else ():
                if isinstance(room, str) and isinstance(size, int):
                    sizes[room] = sizes.get(room, 0) + size
        live = question.expected | question.answers.keys()
        return RoomSizes(sizes, len(live), len(live & question.answers.keys()))

    def _ask(
        self,
        op: str,
        timeout: float | None,
        stop_at_holder: bool = False,
        ask_self: bool = False,
        grow: bool = False,
        **fields: Any,
    ) -> _Question:
        expected = self.live_peers() | ({self.host_id} if ask_self else set())
        question = _Question(expected, self.server.eio.create_event(), stop_at_holder, grow)
        if not question.expected:
            return question
        key = uuid.uuid4().hex
        with self._lock:
            self._questions[key] = question
        try:
            self.send(op, question=key, **fields)
            question.answered.wait(self.timeout if timeout is None else timeout)
        finally:
            with self._lock:
                del self._questions[key]
                question.answers = dict(question.answers)
        return question

    # Receiving (on the queue listener's thread, in the queue's order)

    def take(self, message: dict[str, Any]) -> bool:
        """Apply ``message`` if it is one of SockPub's; returns whether it was."""
        if message.get("method") != METHOD:
            return False
        op = message.get("op")
        if message.get("host_id") == self.host_id:
            if op == "probe":
                self._listening.set()
            if op not in self._own_receivers:
                return True
        receiver = self._receivers.get(op)  # type: ignore[arg-type]
        if receiver is not None:
            try:
                receiver(message)
            except Exception:
                logger.exception("a %r message from the queue could not be applied", op)
        return True

    def _reply(self, message: dict[str, Any], **fields: Any) -> None:
        if message.get("host_id") == self.host_id:
            self._record(self.host_id, message.get("question"), fields)
        else:
            self.send(
                "answer", to=message.get("host_id"), question=message.get("question"), **fields
            )

    def _hello(self, message: dict[str, Any]) -> None:
        self._heartbeat(message)
        self.send("heartbeat")  # so the newcomer knows this process at once

    def _heartbeat(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._peers[message["host_id"]] = time.monotonic()

    def _goodbye(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._peers.pop(message["host_id"], None)

    def _introduce(self, message: dict[str, Any]) -> None:
        introduce_here(self.server, message["source"], message["target"], message.get("skip"))

    def _publish(self, message: dict[str, Any]) -> None:
        apply_publish(self.server, message["message"])

    def _empty(self, message: dict[str, Any]) -> None:
        empty_room(self.server, message["room"], message.get("keep"))

    def _enter(self, message: dict[str, Any]) -> None:
        self._change_held(message, enter)

    def _leave(self, message: dict[str, Any]) -> None:
        self._change_held(message, leave)

    def _change_held(
        self, message: dict[str, Any], change: Callable[[socketio.Server, Socket, str], bool]
    ) -> None:
        socket = Socket(self.server, message["sid"], message.get("namespace") or NAMESPACE)
        if not is_present(self.server.manager, socket.id, socket.namespace):
            self._reply(message, held=False)
            return
        done = all([change(self.server, socket, room) for room in message["rooms"]])
        self._reply(message, held=True, done=done)

    def _members(self, message: dict[str, Any]) -> None:
        self._reply(message, sids=list(members(self.server, message["room"])))

    def _rooms(self, message: dict[str, Any]) -> None:
        self._reply(message, rooms=room_sizes(self.server), peers=sorted(self.live_peers()))

    def _answer(self, message: dict[str, Any]) -> None:
        if message.get("to") == self.host_id:
            self._record(message["host_id"], message.get("question"), message)

    def _record(self, host: str, key: Any, answer: dict[str, Any]) -> None:
        with self._lock:
            question = self._questions.get(key)
            if question is None:
                return  # answered too late
            question.answers[host] = answer
            peers = answer.get("peers")
            if question.grow and isinstance(peers, list):
                # This process is among the peers the others name: expected
                # only if it asked itself.
                question.expected |= {
                    peer for peer in peers if isinstance(peer, str) and peer != self.host_id
                }
            if (question.stop_at_holder and answer.get("held")) or (
                question.expected <= question.answers.keys()
            ):
                question.answered.set()


class Publisher(Protocol):
    """Where model rooms publish: a server process (:class:`Rooms`) or an :class:`~flask_sockpub.emitter.Emitter`."""

    event_style: str
    #: Whether every publish goes as the scoped operation, scoped model or not
    #: (an emitter cannot know which models the server processes scope).
    always_scoped: bool
    #: Whether :meth:`load` can read a row (an app context with a database).
    can_load: bool

    def emit(
        self, event: str, data: Any, rooms: Sequence[str], skip_sid: str | None = None
    ) -> None:
        """Send ``event`` once to every socket in any of ``rooms``, but ``skip_sid``."""

    def publish_scoped(self, message: dict[str, Any]) -> None:
        """Have every process apply a scoped publish to its sockets (:func:`~.rooms.scoped.apply_publish`)."""

    def load(self, model: type[Any], key: Any) -> Any:
        """The row of ``model`` with primary key ``key``, or ``None``."""

    def introduce(self, source: str, target: str, skip_sid: str | None = None) -> None:
        """Every socket of room ``source`` (but ``skip_sid``) joins room ``target``."""

    def empty(self, room: str, keep_sid: str | None = None) -> None:
        """Every socket leaves ``room``, but ``keep_sid``."""


class Rooms:
    """The rooms as one app's server process reaches them: its own sockets, and through the queue every process's.

    Kept in the app's state; model rooms, ``listen``, ``broadcast`` and
    ``subscribers`` go through it.
    """

    always_scoped = False

    def __init__(
        self,
        server: socketio.Server,
        event_style: str,
        cluster: Cluster | None,
        *,
        alone: bool = True,
    ) -> None:
        self.server = server
        self.event_style = event_style
        #: This process's place among the others; ``None`` without a queue
        #: SockPub extends.
        self.cluster = cluster
        #: Whether this process is the only one (no message queue at all): its
        #: own answers are complete. On a queue SockPub does not extend
        #: (Kafka, ZeroMQ), the other processes cannot be asked.
        self.alone = alone

    def emit(
        self, event: str, data: Any, rooms: Sequence[str], skip_sid: str | None = None
    ) -> None:
        """Send ``event`` once to every socket in any of ``rooms``, but ``skip_sid``, on every process."""
        emit(self.server, event, data, rooms, skip_sid)

    def introduce(self, source: str, target: str, skip_sid: str | None = None) -> None:
        """Every socket of room ``source`` (but ``skip_sid``), on every process, joins room ``target``."""
        if self.cluster is None:
            introduce_here(self.server, source, target, skip_sid)
        else:
            self.cluster.introduce(source, target, skip_sid)

    def empty(self, room: str, keep_sid: str | None = None) -> None:
        """Every socket, on every process, leaves ``room``, but ``keep_sid``."""
        if self.cluster is None:
            empty_room(self.server, room, keep_sid)
        else:
            self.cluster.empty(room, keep_sid)

    def publish_scoped(self, message: dict[str, Any]) -> None:
        """Every process applies a scoped publish to the sockets it holds, in the queue's order."""
        if self.cluster is None:
            apply_publish(self.server, message)
        else:
            self.cluster.send(PUBLISH_OP, message=message)

    @property
    def can_load(self) -> bool:
        """Whether a row can be read: an app context whose SockPub has a database."""
        return has_app_context() and app_state().sockpub.db is not None

    def load(self, model: type[Any], key: Any) -> Any:
        """The row of ``model`` with primary key ``key`` through the app's session, or ``None``."""
        return app_state().sockpub.db.session.get(model, key)

    def enter(self, socket: Socket, rooms: Sequence[str], timeout: float | None = None) -> bool:
        """Put ``socket`` in ``rooms``, wherever it is held; ``False`` when no process holds it."""
        return self._change("enter", enter, socket, rooms, timeout)

    def leave(self, socket: Socket, rooms: Sequence[str], timeout: float | None = None) -> bool:
        """Take ``socket`` out of ``rooms``, wherever it is held; ``False`` when no process holds it."""
        return self._change("leave", leave, socket, rooms, timeout)

    def _change(
        self,
        verb: str,
        change: Callable[[socketio.Server, Socket, str], bool],
        socket: Socket,
        rooms: Sequence[str],
        timeout: float | None,
    ) -> bool:
        if self.cluster is not None and not is_present(
            self.server.manager, socket.id, socket.namespace
        ):
            return self.cluster.change_rooms(verb, socket, rooms, timeout)
        # A list, not a generator: every room is tried even after a refusal.
        return all([change(self.server, socket, room) for room in rooms])

    def subscribers(self, room: str, timeout: float | None = None) -> Subscribers:
        """The sockets in ``room`` on every live process, and whether all of them answered in time."""
        if self.cluster is None:
            return Subscribers(
                [Socket(self.server, sid, NAMESPACE) for sid in members(self.server, room)],
                complete=self.alone,
            )
        return self.cluster.members(room, timeout)
