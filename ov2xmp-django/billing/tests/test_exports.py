"""CDR exports (/api/exports/cdrs.<csv|json|xlsx>): every format read back
with a real reader, exact to the cent; each filter; who may export; bad
input; and that the file is streamed, under ASGI too."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from openpyxl.worksheet import _writer as sheet_writer
from rest_framework.test import APIClient

import core.api.exports
import core.exports
from accounts.models import User
from billing.models import Cdr, Tariff, TariffVersion
from chargepoints.tests.factories import ChargePointFactory
from core.tests.export_helpers import client_with, read_csv, read_json, read_xlsx
from idtokens.tests.factories import IdTokenFactory
from locations.tests.factories import LocationFactory
from transactions.models import TransactionStatus
from transactions.tests.factories import TransactionFactory

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
CSV, JSON, XLSX = (f"/api/exports/cdrs.{suffix}" for suffix in ("csv", "json", "xlsx"))
COLUMNS = [
    "id",
    "session_id",
    "ocpp_transaction_id",
    "charge_point",
    "evse_id",
    "connector_id",
    "location_id",
    "location_name",
    "time_zone",
    "started_at",
    "stopped_at",
    "energy_kwh",
    "charging_seconds",
    "parking_seconds",
    "tariff_id",
    "tariff_name",
    "tariff_version_id",
    "tariff_version_valid_from",
    "currency",
    "cost_energy",
    "cost_flat",
    "cost_time",
    "cost_parking_time",
    "total_excl_vat",
    "vat",
    "total_incl_vat",
    "emsp_tariff_name",
    "emsp_tariff_version_id",
    "retail_currency",
    "retail_cost_energy",
    "retail_cost_flat",
    "retail_cost_time",
    "retail_cost_parking_time",
    "retail_total_excl_vat",
    "retail_vat",
    "retail_total_incl_vat",
    "id_token_value",
    "driver_id",
    "driver_username",
    "is_current",
    "reason",
    "created_at",
]


def cdr(session, **fields) -> Cdr:
    values = {
        "transaction": session,
        "charge_point_id": session.charge_point_id,
        "id_token_value": session.id_token_value,
        "started_at": session.started_at,
        "stopped_at": session.stopped_at,
        "time_zone": "Europe/Lisbon",
        "currency": "EUR",
        "energy_wh": Decimal("7400.000"),
        "charging_seconds": Decimal("3600.000"),
        "parking_seconds": Decimal("0.000"),
        "reason": "session ended",
        "driver": session.id_token.owner if session.id_token else None,
        **fields,
    }
    return Cdr.objects.create(**values)


@pytest.fixture
def data(db):
    """Two sites; Maria's sessions at Lisboa, an anonymous one at Porto.
    Maria's first session was recomputed: its first CDR is superseded."""
    lisboa = LocationFactory(name="Lisboa Centro", time_zone="Europe/Lisbon")
    porto = LocationFactory(name="Porto, Ribeira")
    ChargePointFactory(id="CP-1", location=lisboa)
    ChargePointFactory(id="CP-2", location=porto)
    maria = User.objects.create_user(username="maria", password="maria-pass-123")
    tag = IdTokenFactory(value="TAG-MARIA", owner=maria)
    tariff = Tariff.objects.create(name="Lisboa", currency="EUR", vat_percent=Decimal(23))
    version = TariffVersion.objects.create(
        tariff=tariff,
        valid_from=T0 - timedelta(days=1),
        elements=[{"price_components": [{"type": "FLAT", "price": "9.30"}]}],
    )

    def session(charger: str, started_at: datetime, token=None, value="TAG-MARIA", **fields):
        return TransactionFactory(
            charge_point_id=charger,
            ocpp_transaction_id=f"T{started_at:%d}",
            evse_id=2,
            connector_id=1,
            id_token=token,
            id_token_value=value,
            status=TransactionStatus.ENDED,
            started_at=started_at,
            stopped_at=started_at + timedelta(hours=1),
            **fields,
        )

    first = session("CP-1", T0, tag)
    money = {
        "tariff_version": version,
        "cost_energy": Decimal("0.07"),
        "cost_flat": Decimal("9.30"),
        "total_excl_vat": Decimal("9.37"),
        "vat": Decimal("2.16"),
        "total_incl_vat": Decimal("11.53"),
        # Under a flat subscription: what Maria pays.
        "retail_currency": "EUR",
        "retail_cost_energy": Decimal("0.00"),
        "retail_cost_flat": Decimal("5.00"),
        "retail_cost_time": Decimal("0.00"),
        "retail_cost_parking_time": Decimal("0.00"),
        "retail_total_excl_vat": Decimal("5.00"),
        "retail_vat": Decimal("1.15"),
        "retail_total_incl_vat": Decimal("6.15"),
    }
    superseded = cdr(first, is_current=False, **money)
    recomputed = cdr(first, reason="recomputed", **{**money, "cost_energy": Decimal("0.56")})
    porto_cdr = cdr(
        session("CP-2", T0 + timedelta(days=1), value="=HYPERLINK(1)"),
        currency="",
        energy_wh=Decimal("0.001"),
    )
    later = cdr(session("CP-1", T0 + timedelta(days=2), tag), **money)
    return {
        "lisboa": lisboa,
        "porto": porto,
        "maria": maria,
        "tariff": tariff,
        "version": version,
        "superseded": superseded,
        "recomputed": recomputed,
        "porto_cdr": porto_cdr,
        "later": later,
    }


@pytest.fixture
def clerk(data) -> APIClient:
    return client_with("billing.view_cdr")


def ids(rows) -> list[int]:
    return [int(row["id"]) for row in rows]


# --- Formats ------------------------------------------------------------------------------


def test_csv_has_every_column_with_exact_values(data, clerk):
    response = clerk.get(CSV)
    assert response["Content-Disposition"].startswith('attachment; filename="cdrs-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert response["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert list(rows[0]) == COLUMNS
    # By session start, then id.
    assert ids(rows) == [
        data["superseded"].pk,
        data["recomputed"].pk,
        data["porto_cdr"].pk,
        data["later"].pk,
    ]
    superseded = data["superseded"]
    created_at = rows[0].pop("created_at")
    assert datetime.fromisoformat(created_at) == superseded.created_at
    assert created_at.endswith("Z")
    assert rows[0] == {
        "id": str(superseded.pk),
        "session_id": str(superseded.transaction_id),
        "ocpp_transaction_id": "T02",
        "charge_point": "CP-1",
        "evse_id": "2",
        "connector_id": "1",
        "location_id": str(data["lisboa"].pk),
        "location_name": "Lisboa Centro",
        "time_zone": "Europe/Lisbon",
        "started_at": "2026-03-02T10:00:00Z",
        "stopped_at": "2026-03-02T11:00:00Z",
        "energy_kwh": "7.400000",
        "charging_seconds": "3600.000",
        "parking_seconds": "0.000",
        "tariff_id": str(data["tariff"].pk),
        "tariff_name": "Lisboa",
        "tariff_version_id": str(data["version"].pk),
        "tariff_version_valid_from": "2026-03-01T10:00:00Z",
        "currency": "EUR",
        "cost_energy": "0.07",
        "cost_flat": "9.30",
        "cost_time": "0.00",
        "cost_parking_time": "0.00",
        "total_excl_vat": "9.37",
        "vat": "2.16",
        "total_incl_vat": "11.53",
        "emsp_tariff_name": "",
        "emsp_tariff_version_id": "",
        "retail_currency": "EUR",
        "retail_cost_energy": "0.00",
        "retail_cost_flat": "5.00",
        "retail_cost_time": "0.00",
        "retail_cost_parking_time": "0.00",
        "retail_total_excl_vat": "5.00",
        "retail_vat": "1.15",
        "retail_total_incl_vat": "6.15",
        "id_token_value": "TAG-MARIA",
        "driver_id": str(data["maria"].pk),
        "driver_username": "maria",
        "is_current": "false",
        "reason": "session ended",
    }
    porto = rows[2]
    # No tariff, no driver: empty cells. A text a spreadsheet would run as a
    # formula is defused with an apostrophe.
    assert (porto["tariff_id"], porto["tariff_name"], porto["driver_id"]) == ("", "", "")
    assert porto["id_token_value"] == "'=HYPERLINK(1)"
    assert porto["location_name"] == "Porto, Ribeira"
    assert porto["energy_kwh"] == "0.000001"
    assert rows[1]["is_current"] == "true"


def test_json_is_an_array_of_objects_with_decimals_as_strings(data, clerk):
    rows = read_json(clerk.get(JSON))
    assert ids(rows) == [
        data["superseded"].pk,
        data["recomputed"].pk,
        data["porto_cdr"].pk,
        data["later"].pk,
    ]
    first = rows[0]
    assert list(first) == COLUMNS
    assert (first["id"], first["evse_id"], first["driver_id"]) == (
        data["superseded"].pk,
        2,
        data["maria"].pk,
    )
    assert (first["energy_kwh"], first["cost_energy"], first["vat"], first["total_incl_vat"]) == (
        "7.400000",
        "0.07",
        "2.16",
        "11.53",
    )
    assert (first["started_at"], first["is_current"]) == ("2026-03-02T10:00:00Z", False)
    porto = rows[2]
    assert (porto["tariff_id"], porto["driver_username"], porto["currency"]) == (None, None, "")
    # JSON needs no defusing: the value is exact.
    assert porto["id_token_value"] == "=HYPERLINK(1)"


def test_json_of_nothing_is_an_empty_array(db, clerk):
    Cdr.objects.all().delete()
    assert read_json(clerk.get(JSON)) == []


def test_xlsx_has_numbers_datetimes_and_text_that_stays_text(data, clerk):
    workbook, rows = read_xlsx(clerk.get(XLSX))
    assert workbook.sheetnames == ["cdrs"]
    assert list(rows[0]) == COLUMNS
    assert ids(rows) == [
        data["superseded"].pk,
        data["recomputed"].pk,
        data["porto_cdr"].pk,
        data["later"].pk,
    ]
    first = rows[0]
    # xlsx has no time zones: UTC wall times.
    assert first["started_at"] == datetime(2026, 3, 2, 10, 0)
    assert first["tariff_version_valid_from"] == datetime(2026, 3, 1, 10, 0)
    assert first["created_at"] == data["superseded"].created_at.astimezone(UTC).replace(
        tzinfo=None, microsecond=first["created_at"].microsecond
    )
    # Numbers written with their exact digits: 0.07, not 0.07000000000000001.
    assert (first["cost_energy"], first["cost_flat"], first["total_incl_vat"]) == (0.07, 9.3, 11.53)
    assert (first["energy_kwh"], first["charging_seconds"], first["id"]) == (
        7.4,
        3600,
        data["superseded"].pk,
    )
    assert first["is_current"] is False
    assert first["driver_username"] == "maria"
    assert rows[2]["id_token_value"] == "=HYPERLINK(1)"  # text, not a formula
    assert rows[2]["tariff_id"] is None
    sheet = workbook["cdrs"]
    header = [cell.value for cell in sheet[1]]
    money = sheet.cell(row=2, column=header.index("cost_energy") + 1)
    assert (money.data_type, money.number_format) == ("n", "0.00")
    token = sheet.cell(row=4, column=header.index("id_token_value") + 1)
    assert token.data_type == "s"
    assert sheet.freeze_panes == "A2"


def test_xlsx_numbers_are_written_as_their_exact_digits(data, clerk):
    """The cells' XML holds the decimals' own digits. openpyxl alone writes a
    Decimal through a float with 16 digits: 0.07000000000000001."""
    data["later"].cost_time = Decimal("0.56")
    data["later"].total_incl_vat = Decimal("1234567890.12")
    data["later"].save()
    response = clerk.get(XLSX)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    numbers = re.findall(r"<v>([^<]*)</v>", sheet)
    assert {"0.07", "9.30", "0.56", "11.53", "1234567890.12", "7.400000"} <= set(numbers)
    assert not [number for number in numbers if "00000000" in number or "99999999" in number]


def test_a_long_xlsx_continues_on_further_sheets(data, clerk, monkeypatch):
    monkeypatch.setattr(core.exports, "XLSX_MAX_ROWS", 3)  # a header and two rows
    workbook, rows = read_xlsx(clerk.get(XLSX))
    assert workbook.sheetnames == ["cdrs", "cdrs 2"]
    assert ids(rows) == [
        data["superseded"].pk,
        data["recomputed"].pk,
        data["porto_cdr"].pk,
        data["later"].pk,
    ]


def test_xlsx_leaves_no_temporary_file_even_when_writing_fails(data, clerk, monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    read_xlsx(clerk.get(XLSX))
    assert list(tmp_path.iterdir()) == []
    assert sheet_writer.ALL_TEMP_FILES == []

    calls = []
    original = core.exports._xlsx_write

    def failing(workbook, rows, columns, *, title):
        def rows_then_error():
            for index, row in enumerate(rows):
                if index == 2:
                    calls.append("failed")
                    raise RuntimeError("the database went away")
                yield row

        original(workbook, rows_then_error(), columns, title=title)

    monkeypatch.setattr(core.exports, "_xlsx_write", failing)
    clerk.raise_request_exception = False
    response = clerk.get(XLSX)
    assert response.status_code == 500
    assert calls == ["failed"]
    assert list(tmp_path.iterdir()) == []
    assert sheet_writer.ALL_TEMP_FILES == []


# --- Filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["superseded", "recomputed", "porto_cdr", "later"]),
        ({"started_after": "2026-03-03T10:00:00Z"}, ["porto_cdr", "later"]),
        ({"started_before": "2026-03-03T10:00:00Z"}, ["superseded", "recomputed"]),
        # A date alone is its midnight, UTC; an offset is honoured.
        ({"started_after": "2026-03-03", "started_before": "2026-03-04"}, ["porto_cdr"]),
        ({"started_before": "2026-03-03T11:00:00+01:00"}, ["superseded", "recomputed"]),
        ({"location": "porto"}, ["porto_cdr"]),
        ({"charge_point": "CP-1"}, ["superseded", "recomputed", "later"]),
        ({"id_token_value": "TAG-MARIA"}, ["superseded", "recomputed", "later"]),
        ({"user": "maria"}, ["superseded", "recomputed", "later"]),
        ({"is_current": "true"}, ["recomputed", "porto_cdr", "later"]),
        ({"is_current": "false"}, ["superseded"]),
        (
            {"currency": "EUR", "charge_point": "CP-1", "is_current": "true"},
            ["recomputed", "later"],
        ),
        ({"ordering": "-started_at"}, ["later", "porto_cdr", "superseded", "recomputed"]),
        # Unknown ids and values: no rows, as in the lists.
        ({"charge_point": "NO-SUCH"}, []),
        ({"location": 999999}, []),
        ({"user": 999999}, []),
    ],
)
def test_each_filter(data, clerk, params, expected):
    params = dict(params)
    if params.get("location") == "porto":
        params["location"] = data["porto"].pk
    if params.get("user") == "maria":
        params["user"] = data["maria"].pk
    rows = read_csv(clerk.get(CSV, params))
    found = ids(rows)
    wanted = [data[name].pk for name in expected]
    if "ordering" in params:  # the two CDRs of one session tie
        assert (found[:2], sorted(found[2:])) == (wanted[:2], sorted(wanted[2:]))
    else:
        assert found == wanted
    assert ids(read_json(clerk.get(JSON, params))) == found


# --- Who may export -----------------------------------------------------------------------


def test_without_a_login_401(data):
    response = APIClient().get(CSV)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not response.streaming


def test_without_the_view_permission_403_even_with_the_sessions_one(data):
    for permissions in [(), ("transactions.view_transaction", "billing.change_cdr")]:
        client = client_with(*permissions, username=f"user{len(permissions)}")
        for path in (CSV, JSON, XLSX):
            response = client.get(path)
            assert response.status_code == 403, (permissions, path)
            assert not response.streaming


def test_with_the_view_permission_200(data):
    client = client_with("billing.view_cdr")
    assert len(read_csv(client.get(CSV))) == 4


def test_a_session_login_works_too(data):
    client = APIClient()
    client.force_login(User.objects.create_superuser(username="boss", password="x"))
    assert len(read_csv(client.get(CSV))) == 4


def test_the_rows_come_through_every_default_filter_backend(data, clerk, monkeypatch):
    """Scoping by role (another filter backend in DEFAULT_FILTER_BACKENDS)
    applies to exports as to the lists."""
    from billing.api.views import CdrExportView

    class OnlyPorto:
        def filter_queryset(self, request, queryset, view):
            return queryset.filter(charge_point_id="CP-2")

    monkeypatch.setattr(
        CdrExportView, "filter_backends", [*CdrExportView.filter_backends, OnlyPorto]
    )
    for path in (CSV, JSON):
        assert ids((read_csv if path == CSV else read_json)(clerk.get(path))) == [
            data["porto_cdr"].pk
        ]
    assert ids(read_xlsx(clerk.get(XLSX))[1]) == [data["porto_cdr"].pk]


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"started_after": "yesterday"}, "started_after", "Enter a valid date/time."),
        ({"started_before": "2026-13-01"}, "started_before", "Enter a valid date/time."),
        (
            {"started_after": "2026-03-05", "started_before": "2026-03-01"},
            "started_before",
            "Must not be before started_after.",
        ),
        ({"location": "Lisboa"}, "location", "Enter a whole number."),
        ({"user": "1.5"}, "user", "Enter a whole number."),
        ({"is_current": "maybe"}, "is_current", "Select a valid choice."),
    ],
)
def test_bad_values_answer_400_naming_the_parameter(data, clerk, params, field, message):
    for path in (CSV, XLSX):
        response = clerk.get(path, params)
        assert response.status_code == 400, response
        assert not response.streaming
        assert message in response.json()[field][0]


def test_an_unknown_parameter_answers_400_rather_than_exporting_everything(data, clerk):
    response = clerk.get(CSV, {"started_afer": "2026-03-03"})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Unknown parameter: started_afer. Known: ")
    assert "started_after" in detail


def test_drfs_format_parameter_is_refused_and_explained(data, clerk):
    """DRF would answer ?format=csv with 404 (no such renderer)."""
    response = clerk.get(JSON, {"format": "csv"})
    assert response.status_code == 400
    assert "The format is the URL's suffix" in response.json()["detail"]


def test_the_accept_header_plays_no_part(data, clerk):
    response = clerk.get(CSV, HTTP_ACCEPT="text/csv")
    assert len(read_csv(response)) == 4
    response = clerk.get(XLSX, {"location": "x"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400  # the error in JSON, whatever was asked
    assert response["Content-Type"] == "application/json"


def test_an_unknown_format_answers_404(data, clerk):
    for suffix in ("pdf", "CSV", "csv.gz"):
        response = clerk.get(f"/api/exports/cdrs.{suffix}")
        assert response.status_code == 404
        assert response.json() == {"detail": f"No export as {suffix!r}: use .csv, .json or .xlsx."}


# --- Streaming ----------------------------------------------------------------------------


def test_one_query_for_the_rows_however_many(data, clerk):
    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = clerk.get(path)
            assert response.streaming
            b"".join(response.streaming_content)
        return len(captured)

    few = {path: queries(path) for path in (CSV, JSON, XLSX)}
    later = data["later"]
    for _ in range(20):
        later.pk = None
        later.is_current = False
        later.save()
    assert {path: queries(path) for path in (CSV, JSON, XLSX)} == few


@pytest.mark.parametrize("path", [CSV, JSON])
def test_each_chunk_is_sent_as_soon_as_its_rows_are_read(data, clerk, monkeypatch, path):
    monkeypatch.setattr(core.exports, "CHUNK_BYTES", 100)
    read = []
    export_rows = core.api.exports.export_rows

    def counted(queryset, columns, **options):
        for row in export_rows(queryset, columns, **options):
            read.append(row[0])
            yield row

    monkeypatch.setattr(core.api.exports, "export_rows", counted)
    response = clerk.get(path)
    assert response.streaming
    chunks = iter(response.streaming_content)
    next(chunks)
    assert len(read) == 1  # the first row's chunk left before the second row was read
    assert len(list(chunks)) >= 3
    assert read == [data[name].pk for name in ("superseded", "recomputed", "porto_cdr", "later")]


def asgi_export(path: str, token: str, *, disconnect_after: int | None = None):
    """GET through the real ASGI application, as daphne serves it: the
    status, the body messages, and the warnings Django gave."""
    from config.asgi import application

    async def run():
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"localhost"), (b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("localhost", 8000),
        }
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(timeout=20)
        messages = []
        while True:
            message = await communicator.receive_output(timeout=20)
            messages.append(message)
            if disconnect_after is not None and len(messages) == disconnect_after:
                await communicator.send_input({"type": "http.disconnect"})
                break
            if not message.get("more_body", False):
                break
        await communicator.wait(timeout=20)
        return start["status"], messages

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, messages = async_to_sync(run)()
    return status, messages, [str(warning.message) for warning in caught]


def asgi_token(username: str) -> str:
    client = client_with("billing.view_cdr", username=username)
    return client._credentials["HTTP_AUTHORIZATION"].split()[1]


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_csv_is_streamed_not_gathered_first(data, monkeypatch):
    """Django reads a sync iterator whole before sending it under ASGI; the
    export gives it an async one, each step in the request's thread."""
    monkeypatch.setattr(core.exports, "CHUNK_BYTES", 100)
    status, messages, caught = asgi_export(CSV, asgi_token("asgi"))
    assert status == 200
    assert not any("must consume synchronous iterators" in message for message in caught)
    parts = [message["body"] for message in messages if message.get("body")]
    # A chunk per row (over 100 bytes each), the header with the first.
    assert len(parts) == 4
    assert b"".join(parts).decode().count("\r\n") == 5


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_xlsx_file_is_closed_when_the_client_goes_away(data, monkeypatch):
    monkeypatch.setattr(core.exports, "CHUNK_BYTES", 100)
    closed = []
    original = core.exports.FileChunks.close

    def close(self):
        closed.append(self.file.closed)
        original(self)

    monkeypatch.setattr(core.exports.FileChunks, "close", close)
    status, messages, _ = asgi_export(XLSX, asgi_token("asgi"), disconnect_after=2)
    assert status == 200
    assert len(messages) == 2  # it went away mid-file
    assert messages[-1]["more_body"]
    assert closed == [False]  # closed by the export, not left to chance


def watch_rows(monkeypatch) -> list[bool]:
    """A list that gets True when an export's rows iterator is closed."""
    closed: list[bool] = []
    export_rows = core.api.exports.export_rows

    def watched(queryset, columns, **options):
        try:
            yield from export_rows(queryset, columns, **options)
        finally:
            closed.append(True)

    monkeypatch.setattr(core.api.exports, "export_rows", watched)
    return closed


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", [CSV, JSON])
def test_the_rows_cursor_is_closed_at_once_when_the_client_goes_away(data, monkeypatch, path):
    """Left to the garbage collector, a server-side cursor would be closed
    later, on a connection that may by then be in another request's
    transaction (which that CLOSE could abort)."""
    monkeypatch.setattr(core.exports, "CHUNK_BYTES", 100)
    closed = watch_rows(monkeypatch)
    status, messages, _ = asgi_export(path, asgi_token("asgi"), disconnect_after=1)
    assert status == 200
    assert messages[0]["more_body"]
    assert closed == [True]


def test_the_rows_cursor_is_closed_when_writing_an_xlsx_fails(data, clerk, monkeypatch):
    closed = watch_rows(monkeypatch)

    def failing(workbook, rows, columns, *, title):
        next(iter(rows))
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(core.exports, "_xlsx_write", failing)
    clerk.raise_request_exception = False
    assert clerk.get(XLSX).status_code == 500
    assert closed == [True]


# --- OpenAPI ------------------------------------------------------------------------------


def test_the_exports_are_in_the_openapi_schema_with_their_parameters():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    operation = paths["/api/exports/cdrs.{file_format}"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert {
        "file_format",
        "started_after",
        "started_before",
        "location",
        "charge_point",
        "id_token_value",
        "user",
        "is_current",
        "currency",
        "ordering",
    } <= set(parameters)
    assert parameters["file_format"]["schema"]["enum"] == ["csv", "json", "xlsx"]
    assert parameters["location"]["schema"]["type"] == "integer"
    assert set(operation["responses"]["200"]["content"]) == {
        "text/csv",
        "application/json",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    assert "/api/exports/sessions.{file_format}" in paths
    assert "/api/exports/meter-values.{file_format}" in paths
