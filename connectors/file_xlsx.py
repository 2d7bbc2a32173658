"""Excel .xlsx worksheets as text record batches, through openpyxl's read-only mode.

Why read-only: it streams the sheet XML row by row instead of building the
whole workbook in memory. Cached formula results are read (`data_only`), not
the formulas. Cells are rendered by their own type: dates as ISO dates or
timestamps (by the cell's number format), numbers as plain text (integral
values without '.0'), so an Excel serial number in a number cell stays e.g.
'45292' for a field declared `format: excel` to convert.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pyarrow as pa
from openpyxl.styles.numbers import is_datetime
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from connectors.errors import SourceError
from connectors.file_checks import clean_header
from connectors.text import empty_batch, float_text, render_value, strings_batch


def cell_text(cell) -> str | None:
    """The text of one worksheet cell."""
    v = cell.value
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        if is_datetime(getattr(cell, "number_format", None) or "") == "date" and v.time() == dt.time(0):
            return v.date().isoformat()
        return render_value(v)
    if isinstance(v, float):
        # Excel keeps 15 significant digits; beyond that is binary noise (0.1+0.2 -> 0.30000000000000004).
        return float_text(float(f"{v:.15g}"))
    return render_value(v)


def iter_xlsx(
    path: Path, *, source: str, stream: str, sheet: str | None, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Yield the rows of one sheet (the first unless `sheet`), header on row 1, as text batches."""
    where = {"source": source, "stream": stream, "path": path}
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceError(f"not a readable .xlsx workbook: {exc}", **where) from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise SourceError(f"no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})", **where)
        rows = ws.iter_rows()
        header = [cell_text(c) for c in next(rows, ())]
        while header and header[-1] is None:  # formatted but empty cells right of the header
            header.pop()
        if not header:
            raise SourceError(f"sheet {ws.title!r} has no header row", **where)
        names = clean_header([h or "" for h in header], **where)
        width = len(names)
        columns: list[list[str | None]] = [[] for _ in names]
        total = 0
        for number, row in enumerate(rows, start=2):
            values = [cell_text(c) for c in row]
            if all(v is None for v in values):
                continue
            extra = [i for i, v in enumerate(values[width:], start=width) if v is not None]
            if extra:
                raise SourceError(
                    f"value in column {get_column_letter(extra[0] + 1)}, which has no header",
                    **where,
                    line=number,
                )
            values += [None] * (width - len(values))
            for column, v in zip(columns, values):
                column.append(v)
            if len(columns[0]) == batch_rows:
                total += batch_rows
                yield strings_batch(names, columns)
                columns = [[] for _ in names]
        if columns[0]:
            yield strings_batch(names, columns)
        elif total == 0:
            yield empty_batch(names)
    finally:
        wb.close()
