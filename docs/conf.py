"""Sphinx configuration for flask_sockpub's documentation."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import flask_sockpub  # noqa: E402

project = "flask_sockpub"
author = "flask_sockpub developers"
release = flask_sockpub.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.intersphinx", "sphinx.ext.viewcode"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
nitpicky = False
