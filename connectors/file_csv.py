"""CSV files as text record batches, through pyarrow's streaming (block) reader.

Why pyarrow: it parses in C++ block by block, so memory stays at a few
blocks whatever the file size, and it transcodes GBK / GB18030 on the fly.
Every column is read as string (no type guessing: a region code `010100`
must keep its leading zero) and empty cells stay empty strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.errors import SourceError
from connectors.file_checks import clean_header, first_undecodable_line
from connectors.text import empty_batch, slices

BLOCK_SIZE = 1 << 20  # bytes parsed at a time


def iter_csv(
    path: Path, *, source: str, stream: str, encoding: str, delimiter: str, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Yield the rows of a CSV file (header on the first line) as text batches.

    `encoding` is a Python codec name (codecs.lookup(...).name). A malformed
    row or undecodable text raises SourceError with the line number.
    """
    where = {"source": source, "stream": stream, "path": path}
    bad_rows: list[pacsv.InvalidRow] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        bad_rows.append(row)
        return "error"

    read = pacsv.ReadOptions(
        # Arrow decodes UTF-8 natively (skipping a BOM); other codecs go through Python's.
        encoding="utf8" if encoding == "utf-8" else encoding,
        use_threads=False,  # needed for row numbers in errors
        block_size=BLOCK_SIZE,
    )
    parse = pacsv.ParseOptions(
        delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
    )
    try:
        # First pass reads only the first block, to learn the header names.
        with pacsv.open_csv(path, read_options=read, parse_options=parse) as probe:
            raw_names = probe.schema.names
        names = clean_header(raw_names, **where)
        convert = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in raw_names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        rows = 0
        with pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert) as reader:
            for batch in reader:
                rows += batch.num_rows
                yield from slices(pa.RecordBatch.from_arrays(batch.columns, names=names), batch_rows)
        if rows == 0:
            yield empty_batch(names)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _error(exc, bad_rows, path, encoding, where) from None


def _error(
    exc: Exception, bad_rows: list[pacsv.InvalidRow], path: Path, encoding: str, where: dict
) -> SourceError:
    """Turn a pyarrow/codec error into a SourceError that says which line is wrong."""
    if bad_rows:
        row = bad_rows[0]
        # Arrow counts CSV records from 1 with the header: the physical line unless a quoted
        # value spans lines. The row text is left out: it may hold personal data.
        return SourceError(
            f"malformed row: expected {row.expected_columns} columns, got {row.actual_columns}",
            **where,
            line=row.number,
        )
    message = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "invalid utf8" in message.lower():
        line = first_undecodable_line(path, encoding)
        return SourceError(f"text is not valid {encoding} (check the declared encoding)", **where, line=line)
    if "empty csv file" in message.lower():
        return SourceError("file is empty (no header line)", **where)
    return SourceError(f"cannot parse CSV: {message}", **where)
