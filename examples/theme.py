"""What the demo apps share: one stylesheet and the connection badge, served under /theme/."""

from __future__ import annotations

from flask import Blueprint

theme = Blueprint("theme", __name__, static_folder="static", static_url_path="/theme")
