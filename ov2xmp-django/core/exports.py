"""Exports: rows of a query written as CSV, JSON or Excel (.xlsx), a chunk at a
time, so that a year of data never sits in memory.

An export is a list of :class:`Column`: each names a value of
``QuerySet.values()`` (or computes one from them) and its kind. The writers
turn the same typed values into each format:

* decimals stay exact: CSV and JSON get their digits as text (JSON as strings,
  like the API), xlsx a number cell whose XML holds those same digits;
* times are UTC: ISO 8601 with ``Z`` in CSV and JSON; in xlsx, which has no
  time zones, a date-time cell holding the UTC wall time (naive);
* CSV text that a spreadsheet would take for a formula (``=``, ``+``, ``-``,
  ``@``, tab, carriage return first) gets a leading apostrophe; xlsx text cells
  are always text, never formulas.

The xlsx is written by openpyxl in write-only mode (ADR 0019) to an unnamed
temporary file, which is then streamed: nothing of it stays on disk once the
file is closed, whether the client read it all or went away.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any, Literal

from django.db.models import QuerySet

Kind = Literal["text", "integer", "decimal", "datetime", "boolean"]

# Rows fetched from the database at a time (a server-side cursor's batch on
# PostgreSQL), and the size of the chunks sent to the client.
DB_CHUNK_ROWS = 2000
CHUNK_BYTES = 64 * 1024
# An xlsx worksheet holds at most this many rows (the header included);
# longer exports continue on further sheets, each with the header.
XLSX_MAX_ROWS = 1_048_576
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": XLSX_CONTENT_TYPE,
}
FORMATS = tuple(CONTENT_TYPES)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column of an export. ``source`` is a path for ``QuerySet.values()``
    (``"transaction__charge_point__location__name"``), or a function of the
    row's values, which then lists the paths it reads in ``needs``.
    ``places``: a decimal's digits after the point, always written."""

    name: str
    kind: Kind
    source: str | Callable[[Mapping[str, Any]], Any]
    places: int | None = None
    needs: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else self.needs

    def value(self, row: Mapping[str, Any]) -> Any:
        value = row[self.source] if isinstance(self.source, str) else self.source(row)
        if value is not None and self.kind == "decimal":
            value = Decimal(value)
            if self.places is not None:
                # Exact: the stored values have no more places than this.
                value = value.quantize(Decimal(1).scaleb(-self.places))
        return value


def export_rows(
    queryset: QuerySet, columns: Sequence[Column], *, chunk_size: int | None = None
) -> Iterator[list[Any]]:
    """The typed values of each row, read ``chunk_size`` rows at a time: on
    PostgreSQL through a server-side cursor, on SQLite with ``fetchmany``. One
    query: the columns' related values come from joins, not a query per row."""
    paths = list(dict.fromkeys(path for column in columns for path in column.paths))
    for row in queryset.values(*paths).iterator(chunk_size=chunk_size or DB_CHUNK_ROWS):
        yield [column.value(row) for column in columns]


def decimal_text(value: Decimal) -> str:
    """The digits of a decimal, never in exponent notation (``1E+3``)."""
    return format(value, "f")


def plain_decimal(value: Decimal) -> Decimal:
    """Without trailing zeros (``1000.500000`` → ``1000.5``), exactly."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def utc_text(value: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, as the API writes times."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@contextlib.contextmanager
def _closing(rows: Iterable[Any]) -> Iterator[None]:
    """Close the rows' iterator (its database cursor) when the writer stops,
    at the end, on an error or when it is closed itself (the client went
    away): left to the garbage collector, a server-side cursor would be
    closed at some later time, on a connection that may be in another
    request's transaction by then."""
    try:
        yield
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


# --- CSV ---------------------------------------------------------------------------------


def _csv_cell(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "decimal":
        return decimal_text(value)
    if kind == "datetime":
        return utc_text(value)
    if kind == "text":
        text = str(value)
        # Spreadsheets run a cell that starts like this as a formula (CSV
        # injection): data from chargers (id tokens) must not become one.
        return "'" + text if text.startswith(_FORMULA_START) else text
    return str(value)


def csv_chunks(rows: Iterable[Sequence[Any]], columns: Sequence[Column]) -> Iterator[bytes]:
    """RFC 4180 CSV (comma, CRLF, UTF-8 without a BOM) with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.name for column in columns])
    kinds = [column.kind for column in columns]
    with _closing(rows):
        for row in rows:
            writer.writerow(
                [_csv_cell(value, kind) for value, kind in zip(row, kinds, strict=True)]
            )
            if buffer.tell() >= CHUNK_BYTES:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


# --- JSON --------------------------------------------------------------------------------


def _json_value(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind == "decimal":
        return decimal_text(value)
    if kind == "datetime":
        return utc_text(value)
    return value


def json_chunks(rows: Iterable[Sequence[Any]], columns: Sequence[Column]) -> Iterator[bytes]:
    """A JSON array of objects, one per line, keyed by the column names."""
    names = [column.name for column in columns]
    kinds = [column.kind for column in columns]
    parts: list[str] = ["["]
    size = 1
    separator = "\n"
    with _closing(rows):
        for row in rows:
            item = json.dumps(
                {
                    name: _json_value(value, kind)
                    for name, value, kind in zip(names, row, kinds, strict=True)
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
            parts.append(separator)
            parts.append(item)
            separator = ",\n"
            size += len(item) + 2
            if size >= CHUNK_BYTES:
                yield "".join(parts).encode()
                parts.clear()
                size = 0
    parts.append("\n]\n" if separator == ",\n" else "]\n")
    yield "".join(parts).encode()


# --- xlsx --------------------------------------------------------------------------------


def xlsx_file(rows: Iterable[Sequence[Any]], columns: Sequence[Column], *, title: str) -> IO[bytes]:
    """The rows as an xlsx workbook in an unnamed temporary file (deleted when
    closed, or when the process ends), positioned at its start.

    openpyxl's write-only mode keeps one row in memory; it writes each sheet's
    XML to a temporary file of its own, which it removes when it saves the
    workbook, and which is removed here if writing fails before that.
    """
    from openpyxl import Workbook
    from openpyxl.worksheet import _writer as sheet_writer

    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the caller closes it)
    workbook = Workbook(write_only=True)
    try:
        with _closing(rows):
            _xlsx_write(workbook, rows, columns, title=title)
        workbook.save(out)
    except BaseException:
        out.close()
        raise
    finally:
        # Sheets not saved (an error while writing) leave their XML behind.
        for sheet in workbook.worksheets:
            writer = getattr(sheet, "_writer", None)
            path = getattr(writer, "out", None)
            if isinstance(path, str) and path in sheet_writer.ALL_TEMP_FILES:
                # Close its generators while the file is open: closed later
                # by the garbage collector, they would write to it closed.
                for generator in (getattr(sheet, "_rows", None), getattr(writer, "xf", None)):
                    if generator is not None:
                        with contextlib.suppress(Exception):
                            generator.close()
                if os.path.exists(path):
                    os.remove(path)
                sheet_writer.ALL_TEMP_FILES.remove(path)
    out.seek(0)
    return out


def _xlsx_write(
    workbook: Any, rows: Iterable[Sequence[Any]], columns: Sequence[Column], *, title: str
) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    number_formats = [
        ("0." + "0" * column.places if column.places else "0")
        if column.kind == "decimal" and column.places is not None
        else "General"
        for column in columns
    ]
    bold = Font(bold=True)

    def new_sheet(number: int) -> Any:
        sheet = workbook.create_sheet(title if number == 1 else f"{title} {number}")
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, 1):
            width = {"datetime": 20, "decimal": 14, "boolean": 8}.get(column.kind, 12)
            sheet.column_dimensions[get_column_letter(index)].width = max(width, len(column.name))
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=column.name)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        return sheet

    def cell(sheet: Any, value: Any, kind: Kind, number_format: str) -> Any:
        if value is None:
            return None
        if kind == "datetime":
            # xlsx has no time zones: the UTC wall time (docs/billing.md).
            return value.astimezone(UTC).replace(tzinfo=None)
        if kind == "decimal":
            # openpyxl writes a Decimal through a float with 16 digits
            # (0.07 → 0.07000000000000001); write the exact digits instead.
            made = WriteOnlyCell(sheet, value=decimal_text(value))
            made.data_type = "n"
            made.number_format = number_format
            return made
        if kind == "text":
            text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
            made = WriteOnlyCell(sheet, value=text)
            # A text starting with "=" would become a formula: keep it text.
            made.data_type = "s"
            return made
        return value

    kinds = [column.kind for column in columns]
    sheets = 1
    sheet = new_sheet(sheets)
    written = 1
    for row in rows:
        if written == XLSX_MAX_ROWS:
            sheets += 1
            sheet = new_sheet(sheets)
            written = 1
        sheet.append(
            [
                cell(sheet, value, kind, number_format)
                for value, kind, number_format in zip(row, kinds, number_formats, strict=True)
            ]
        )
        written += 1


class FileChunks:
    """Iterate over a file in chunks; closing it (Django closes a streaming
    response's content when the response is closed, after the last chunk or
    when the client went away) closes the file, even before the first chunk."""

    def __init__(self, file: IO[bytes], chunk_bytes: int | None = None) -> None:
        self.file = file
        self.chunk_bytes = chunk_bytes or CHUNK_BYTES

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = self.file.read(self.chunk_bytes)
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        self.file.close()
