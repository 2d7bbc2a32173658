"""Files dropped in a front-end exchange folder (前置机交换目录): find them, read them.

Why the ceremony: other systems copy files into the folder while we look at
it. A file is offered only once it is settled (not modified for
`settle_seconds` and not growing), identified by its content hash so the
caller can load each file exactly once, and re-checked after loading with
`assert_unchanged` so a file rewritten during the load is not silently
half-loaded.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from connectors.errors import SourceError
from connectors.file_csv import iter_csv
from connectors.file_jsonl import iter_jsonl
from connectors.file_xlsx import iter_xlsx

DEFAULT_BATCH_ROWS = 50_000
FORMATS = ("csv", "xlsx", "jsonl")
_TEMP_SUFFIXES = (".tmp", ".part", ".filepart")
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class DropFile:
    """One settled file: where it is, and what it was when listed."""

    path: Path
    relpath: str  # relative to the drop folder, with '/' separators
    size: int
    mtime_ns: int
    ctime_ns: int  # inode change time: any write moves it, and no copy tool can set it back
    sha256: str


def _is_temporary(name: str) -> bool:
    """Names that uploaders use while a transfer is in progress, and hidden files."""
    lower = name.lower()
    return lower.startswith(("~", ".")) or lower.endswith(_TEMP_SUFFIXES)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _listed(folder: Path, pattern: str, *, source: str, stream: str) -> list[tuple[str, Path, os.stat_result]]:
    """(relpath, path, stat) of the regular files matching `pattern`, temporary names left out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(
            f"drop folder {str(folder)!r} does not exist or is not a folder", source=source, stream=stream
        )
    try:
        matches = list(folder.glob(pattern))
    except (ValueError, NotImplementedError) as exc:
        raise SourceError(f"bad file pattern {pattern!r}: {exc}", source=source, stream=stream) from None

    found: list[tuple[str, Path, os.stat_result]] = []
    for path in matches:
        try:
            rel = path.relative_to(folder)
        except ValueError:
            raise SourceError(
                f"file pattern {pattern!r} leaves the drop folder", source=source, stream=stream
            ) from None
        if ".." in rel.parts:
            raise SourceError(
                f"file pattern {pattern!r} leaves the drop folder", source=source, stream=stream
            )
        if any(_is_temporary(part) for part in rel.parts):
            continue
        try:
            st = path.stat()
        except FileNotFoundError:  # removed since the glob
            continue
        if stat.S_ISREG(st.st_mode):
            found.append((rel.as_posix(), path, st))
    found.sort(key=lambda item: item[0])
    return found


def list_ready_files(
    folder: Path,
    pattern: str,
    *,
    source: str,
    stream: str,
    settle_seconds: float = 1.0,
    known: Mapping[tuple[str, int, int], str] | None = None,
) -> list[DropFile]:
    """Settled files under `folder` matching the glob `pattern` (``**`` allowed), by relpath.

    Temporary and hidden names are skipped. Files modified less than
    `settle_seconds` ago are waited for (at most `settle_seconds`, once for
    all of them) and skipped if they changed meanwhile: they are still being
    written and will be offered next time. `known` maps (relpath, size,
    ctime_ns) of files hashed before to their SHA-256: a folder that keeps
    years of drops is not read again at every run, only listed. (The inode
    change time, not mtime: `rsync -t` or `touch -d` can give a rewritten file
    its old mtime, never its old ctime.)
    """
    found = _listed(folder, pattern, source=source, stream=stream)
    settle_ns = int(settle_seconds * 1e9)
    now = time.time_ns()
    young = {rel for rel, _, st in found if now - st.st_mtime_ns < settle_ns}
    if young:
        wait = max(settle_ns - (now - st.st_mtime_ns) for rel, _, st in found if rel in young)
        time.sleep(min(wait, settle_ns) / 1e9)

    ready = []
    for rel, path, st in found:
        try:
            if rel in young:
                again = path.stat()
                if not _same(st, again):
                    continue  # still being written
            elif known and (rel, st.st_size, st.st_ctime_ns) in known:
                ready.append(_drop_file(path, rel, st, known[(rel, st.st_size, st.st_ctime_ns)]))
                continue
            digest = _sha256(path)
            after = path.stat()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise SourceError(
                f"cannot read: {exc.strerror or exc}", source=source, stream=stream, path=path
            ) from None
        if not _same(st, after):
            continue  # changed while hashing: still being written
        ready.append(_drop_file(path, rel, st, digest))
    return ready


def _drop_file(path: Path, rel: str, st: os.stat_result, sha256: str) -> DropFile:
    return DropFile(path=path, relpath=rel, size=st.st_size, mtime_ns=st.st_mtime_ns, ctime_ns=st.st_ctime_ns,
                    sha256=sha256)


def assert_unchanged(f: DropFile, *, source: str, stream: str) -> None:
    """Raise SourceError if the file is gone or its size/mtime differ from when it was listed."""
    try:
        st = f.path.stat()
    except FileNotFoundError:
        raise SourceError(
            "file disappeared while it was being loaded", source=source, stream=stream, path=f.path
        ) from None
    if st.st_size != f.size or st.st_mtime_ns != f.mtime_ns:
        raise SourceError(
            f"file changed while it was being loaded (size {f.size} -> {st.st_size}, "
            f"mtime_ns {f.mtime_ns} -> {st.st_mtime_ns})",
            source=source,
            stream=stream,
            path=f.path,
        )


def read_file(
    f: DropFile,
    *,
    source: str,
    stream: str,
    format: str,
    encoding: str = "utf-8",
    delimiter: str = ",",
    sheet: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Text record batches of at most `batch_rows` rows from a csv, xlsx or jsonl file.

    Column names are the header (csv, xlsx; whitespace and BOM stripped) or the
    object keys seen so far (jsonl). A file with a header and no rows yields
    one empty batch. Options are checked now, the file is read lazily.
    """
    where = {"source": source, "stream": stream}
    fmt = format.lower()
    if fmt not in FORMATS:
        raise SourceError(f"unknown file format {format!r} (expected one of {', '.join(FORMATS)})", **where)
    if batch_rows < 1:
        raise SourceError(f"batch_rows must be positive, not {batch_rows}", **where)
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}", **where) from None
    if not f.path.is_file():
        raise SourceError("file not found", **where, path=f.path)
    if fmt == "csv":
        if len(delimiter) != 1:
            raise SourceError(f"delimiter must be one character, not {delimiter!r}", **where)
        return iter_csv(
            f.path, source=source, stream=stream, encoding=codec, delimiter=delimiter, batch_rows=batch_rows
        )
    if fmt == "xlsx":
        return iter_xlsx(f.path, source=source, stream=stream, sheet=sheet, batch_rows=batch_rows)
    return iter_jsonl(f.path, source=source, stream=stream, encoding=codec, batch_rows=batch_rows)


def folder_signature(folder: Path, pattern: str) -> str:
    """A short fingerprint of the matching files (names, sizes, times) without reading them.

    Cheap enough for a sensor to call every minute: it changes when a file arrives or changes.
    """
    digest = hashlib.sha256()
    try:
        found = _listed(Path(folder), pattern, source="", stream="")
    except SourceError:
        return "missing"
    entries = [f"{rel}\t{st.st_size}\t{st.st_mtime_ns}" for rel, _, st in found]
    for entry in sorted(entries):
        digest.update(entry.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()[:16]


def unledgered_files(
    folder: Path, pattern: str, ledger: set[tuple[str, int, int]], *, source: str, stream: str
) -> list[str]:
    """Relpaths of matching files whose (relpath, size, ctime_ns) the ledger does not hold: what a
    run of the stream would hash and perhaps load. Only lists the folder, reads no file."""
    found = _listed(Path(folder), pattern, source=source, stream=stream)
    return [rel for rel, _, st in found if (rel, st.st_size, st.st_ctime_ns) not in ledger]
