"""``python -m flask_sockpub run module:app``."""

from .cli import main

main()
