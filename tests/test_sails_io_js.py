"""The official sails.io.js client (npm, on socket.io-client 4) against real servers.

The JavaScript side is tests/node/*.test.js, run with Node's own test runner:
sails-io.test.js against tests/apps/clients.py in each async mode, and
blueprints.test.js against a CRUD blueprint on SQLite and PostgreSQL.
``scripts/test`` installs the npm packages (``npm ci``) before pytest runs.
"""

from __future__ import annotations

import pytest

from flask_sockpub.testing import LiveServer
from tests.node_runner import run_node_tests


@pytest.mark.parametrize("variant_server", ["threading", "gevent", "eventlet"], indirect=True)
def test_sails_io_js_talks_to_flask_views(variant_server: LiveServer) -> None:
    run_node_tests("tests/node/sails-io.test.js", variant_server)


@pytest.mark.usefixtures("fresh_rows")
def test_sails_io_js_drives_a_crud_blueprint(blueprint_server: LiveServer) -> None:
    run_node_tests("tests/node/blueprints.test.js", blueprint_server)
