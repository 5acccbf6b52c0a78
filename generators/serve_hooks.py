"""MkDocs hooks for make serve's preview only (build/mkdocs-serve.yml adds them; the published site and
make site use none): they keep each rebuild after a save short.

- The theme's templates are compiled once and kept as bytecode in build/.jinja-cache/ (MkDocs makes a
  new template environment on every rebuild; parsing and compiling its templates again was a third of
  a rebuild). A changed template is compiled again: the cache is keyed by its source.
- The preview renders no 404 page and no sitemap: MkDocs renders both on every rebuild, each with the
  whole navigation (a quarter of a rebuild after one record is saved). The published site has both.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import FileSystemBytecodeCache

PREVIEW_ONLY_LEFT_OUT = {"404.html", "sitemap.xml", "sitemap.xml.gz"}


def on_config(config):
    config.theme.static_templates -= PREVIEW_ONLY_LEFT_OUT
    return config


def on_env(env, config, files):
    folder = Path(config.config_file_path).parent / ".jinja-cache"
    folder.mkdir(exist_ok=True)
    env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    return env
