"""GX Data Docs views whose Jinja templates are compiled once per machine, not once per run.

GX builds a new Jinja environment for every site it renders, so each `hub run` compiled the same
page templates again: about a third of the report step (0.1 s of 0.3 s for one validation page and
the index). These are GX's own page and index views with Jinja's file bytecode cache added; the
site configuration of `quality.gx_duckdb.build_data_docs` names them (GX's documented `view`
setting of a site section and of the index builder). Jinja keys each cached template by its
name and source checksum, so a GX upgrade that changes a template compiles it again.
"""

from __future__ import annotations

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import FileSystemBytecodeCache

# Jinja's default folder: a per-user directory under the system temp dir, created with mode 0700.
_CACHE = FileSystemBytecodeCache()


class CachedJinjaPageView(DefaultJinjaPageView):
    """Validation and suite pages."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = _CACHE


class CachedJinjaIndexPageView(DefaultJinjaIndexPageView):
    """The site's index page."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = _CACHE

