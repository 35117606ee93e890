"""Sphinx configuration for flask_sockpub's documentation."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import flask_sockpub  # noqa: E402

project = "flask_sockpub"
author = "flask_sockpub developers"
release = version = flask_sockpub.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "pallets_sphinx_themes",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
exclude_patterns = ["_build"]
# The theme of Flask's own documentation and its extensions' (pallets-sphinx-themes).
html_theme = "flask"
html_title = f"flask_sockpub {release}"
# The theme's banner asks PyPI whether a newer version exists: not offline.
version_banner = False
templates_path = ["_templates"]
# The project's name heads every sidebar (_templates/name.html).
html_sidebars = {
    "index": ["name.html", "project.html", "localtoc.html", "searchbox.html"],
    "**": ["name.html", "localtoc.html", "relations.html", "searchbox.html"],
}
html_static_path: list[str] = []
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
nitpicky = False
