"""The headless Chromium that the tests and the search benchmark drive through Playwright.

Playwright's own browser download does not work here: Debian's chromium is used (.ci/run installs
it), or google-chrome on GitHub's runners."""

from __future__ import annotations

import shutil

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def find() -> str | None:
    """The browser's path, or None when none is installed."""
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
