"""gunicorn's configuration for the processes of the cluster: graceful shutdown on SIGTERM."""


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    # Imported here, in the worker, once gevent has patched it: the gunicorn
    # master reads this file before any patching.
    from flask_sockpub.serving.graceful import close_sockets_on_shutdown

    close_sockets_on_shutdown(worker)
