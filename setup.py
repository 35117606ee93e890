"""Build hooks (the metadata is in setup.cfg): wheels and sdists carry the browser SDK.

``flask_sockpub/static/dist/sockpub.js`` is built from ``flask_sockpub/static/src``
and socket.io-client by ``npm ci && npm run build`` (Node.js 18 or newer); it is
never committed. Building a wheel or an sdist runs that build when the bundle
is missing or older than its sources, and stops with a message saying so when
Node.js is not there. A wheel built from an sdist needs no Node.js: the sdist
carries the bundle. Editable installs skip the build (``scripts/demo`` and
``scripts/test`` run it).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
BUNDLE = ROOT / "flask_sockpub" / "static" / "dist" / "sockpub.js"
BUILD_COMMAND = "npm ci && npm run build"


def sdk_sources() -> list[Path]:
    """What the bundle is built from."""
    sources = [ROOT / "package.json", ROOT / "package-lock.json", ROOT / "scripts" / "build-sdk.mjs"]
    sources += sorted((ROOT / "flask_sockpub" / "static" / "src").glob("*.mjs"))
    return [path for path in sources if path.exists()]


def bundle_is_fresh() -> bool:
    if not BUNDLE.is_file():
        return False
    built = BUNDLE.stat().st_mtime
    return all(source.stat().st_mtime <= built for source in sdk_sources())


def build_sdk() -> None:
    """Build the browser SDK bundle unless it is there and newer than its sources."""
    if bundle_is_fresh():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        state = "is missing" if not BUNDLE.is_file() else "is older than its sources"
        raise SystemExit(
            f"flask-sockpub: the browser SDK bundle {BUNDLE.relative_to(ROOT)} {state}, and "
            f"building it needs Node.js 18+ and npm (`{BUILD_COMMAND}`). Install Node.js, "
            "or build from an sdist, which carries the bundle."
        )
    lock = ROOT / "package-lock.json"
    stamp = ROOT / "node_modules" / ".package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
    subprocess.run([npm, "run", "build", "--silent"], cwd=ROOT, check=True)


class BuildPyWithSDK(build_py):
    """build_py that builds the browser SDK first (not for editable installs)."""

    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            build_sdk()
        super().run()


class SdistWithSDK(sdist):
    """sdist that builds the browser SDK first, so the sdist carries it."""

    def run(self) -> None:
        build_sdk()
        super().run()


setup(cmdclass={"build_py": BuildPyWithSDK, "sdist": SdistWithSDK})
