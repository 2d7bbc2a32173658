"""The one exception every connector raises.

Why one class: the pipeline layer only has to catch `SourceError` to turn any
extraction problem (bad URL, missing table, undecodable file, malformed row)
into a failed asset with a message that says where the problem is. Messages
never contain secrets: `connectors.sql` shows URLs only through `mask_url`.
"""

from __future__ import annotations

import functools
from pathlib import Path


class SourceError(Exception):
    """A problem reading a source, with where it happened in the message.

    `str(err)` reads like ``source 'amr', stream 'licenses', file '/x/a.csv', line 3: <detail>``;
    the parts are also kept as attributes for programmatic use.
    """

    def __init__(
        self,
        detail: str,
        *,
        source: str | None = None,
        stream: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
    ) -> None:
        self.detail = detail
        self.source = source
        self.stream = stream
        self.path = None if path is None else str(path)
        self.line = line
        where = []
        if source is not None:
            where.append(f"source {source!r}")
        if stream is not None:
            where.append(f"stream {stream!r}")
        if self.path is not None:
            where.append(f"file {self.path!r}")
        if line is not None:
            where.append(f"line {line}")
        super().__init__(f"{', '.join(where)}: {detail}" if where else detail)

    def __reduce__(self):
        # Keep the context when the error crosses a process boundary (pickle).
        ctx = {"source": self.source, "stream": self.stream, "path": self.path, "line": self.line}
        return (functools.partial(type(self), **ctx), (self.detail,))
