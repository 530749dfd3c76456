"""The API side of exports (core/exports.py): one view class per export at
``/api/exports/<name>.<csv|json|xlsx>``, and the filters they share.

An export view is a DRF ``GenericAPIView``: its rows come from
``self.filter_queryset(self.get_queryset())``, through every filter backend
of ``REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"]``, so whatever limits what a
user may see in the lists limits the exports too. It needs the model's view
permission on top of the default permissions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import django_filters
from asgiref.sync import sync_to_async
from django import forms
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from core.exports import (
    CONTENT_TYPES,
    FORMATS,
    Column,
    FileChunks,
    csv_chunks,
    export_rows,
    json_chunks,
    xlsx_file,
)
from core.time import utc_now

# --- Filters -------------------------------------------------------------------------------


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (an id); ``1.5`` or ``abc`` is a 400."""

    field_class = forms.IntegerField


def boolean_filter(field_name: str, help_text: str) -> django_filters.TypedChoiceFilter:
    """``true`` or ``false``; anything else is a 400 (django-filter's
    BooleanFilter ignores a value it cannot read, and would export all)."""
    return django_filters.TypedChoiceFilter(
        field_name=field_name,
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        help_text=help_text,
    )


class TimeRangeForm(forms.Form):
    """``started_after`` must come before ``started_before``."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        after, before = cleaned.get("started_after"), cleaned.get("started_before")
        if after is not None and before is not None and after > before:
            self.add_error("started_before", "Must not be before started_after.")
        return cleaned


def started_after(field_name: str, what: str) -> django_filters.IsoDateTimeFilter:
    return django_filters.IsoDateTimeFilter(
        field_name=field_name,
        lookup_expr="gte",
        help_text=f"{what} that started at or after this time (ISO 8601; without an "
        "offset: UTC; a date alone: its midnight, UTC).",
    )


def started_before(field_name: str, what: str) -> django_filters.IsoDateTimeFilter:
    return django_filters.IsoDateTimeFilter(
        field_name=field_name,
        lookup_expr="lt",
        help_text=f"{what} that started before this time (ISO 8601, as started_after).",
    )


def location_filter(field_name: str) -> IntegerFilter:
    return IntegerFilter(field_name=field_name, help_text="Location id (where the charger is)")


def user_filter(field_name: str) -> IntegerFilter:
    return IntegerFilter(
        field_name=field_name, help_text="User id of the driver who owns the id token"
    )


# --- The view ------------------------------------------------------------------------------


class ExportNegotiation(BaseContentNegotiation):
    """The format is the URL's suffix. The ``Accept`` header and ``?format=``
    (DRF's URL_FORMAT_OVERRIDE, which would answer 404) play no part; errors
    are JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


def export_schema(*, operation_id: str, summary: str, description: str) -> Any:
    """The OpenAPI description of an ExportView's ``get``."""
    file = "The file, in the format the URL's suffix names"
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        filters=True,
        parameters=[
            OpenApiParameter(
                "file_format",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(FORMATS),
                description="csv, json or xlsx: the file's format.",
            )
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=file),
            (200, "application/json"): OpenApiResponse(OpenApiTypes.ANY, description=file),
            (200, CONTENT_TYPES["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY, description=file),
            400: OpenApiResponse(description="A bad or unknown parameter"),
            401: OpenApiResponse(description="Not logged in"),
            403: OpenApiResponse(description="No view permission"),
            404: OpenApiResponse(description="No such format"),
        },
    )


class ExportView(GenericAPIView):
    """``GET …/<name>.<csv|json|xlsx>``: the filtered rows as a file, streamed."""

    export_name: str  # the file name's start and the xlsx sheet's title
    columns: Sequence[Column]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = ExportNegotiation
    pagination_class = None

    def known_parameters(self) -> set[str]:
        filterset_class = getattr(self, "filterset_class", None)
        names = set(filterset_class.base_filters) if filterset_class else set()
        for backend_class in self.filter_backends:
            backend = backend_class()
            # django-filter's backend lists its filters in the schema only
            # through drf-spectacular; they are the filterset's, counted above.
            describe = getattr(backend, "get_schema_operation_parameters", None)
            if describe is None or isinstance(backend, DjangoFilterBackend):
                continue
            names |= {parameter["name"] for parameter in describe(self)}
        return names

    def check_parameters(self, request: Request) -> None:
        """A misspelt filter would otherwise export everything: refuse it."""
        unknown = sorted(set(request.query_params) - self.known_parameters())
        if not unknown:
            return
        message = (
            f"Unknown parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"Known: {', '.join(sorted(self.known_parameters()))}."
        )
        if "format" in unknown:
            message += " The format is the URL's suffix: .csv, .json or .xlsx."
        raise ValidationError({"detail": message})

    def get(self, request: Request, file_format: str) -> StreamingHttpResponse:
        if file_format not in FORMATS:
            raise NotFound(f"No export as {file_format!r}: use .csv, .json or .xlsx.")
        self.check_parameters(request)
        rows = export_rows(self.filter_queryset(self.get_queryset()), self.columns)
        length = None
        chunks: Iterator[bytes]
        if file_format == "csv":
            chunks = csv_chunks(rows, self.columns)
        elif file_format == "json":
            chunks = json_chunks(rows, self.columns)
        else:
            # A zip is complete only at its end: the workbook is written
            # first (to disk, row by row), then streamed.
            file = xlsx_file(rows, self.columns, title=self.export_name)
            length = file.seek(0, 2)
            file.seek(0)
            chunks = FileChunks(file)
        stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
        response = streaming_response(
            request._request, chunks, content_type=CONTENT_TYPES[file_format]
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{self.export_name}-{stamp}.{file_format}"'
        )
        response["Cache-Control"] = "no-store"
        if length is not None:
            response["Content-Length"] = str(length)
        return response


# --- Streaming under WSGI and ASGI ----------------------------------------------------------


class AsyncChunks:
    """An async iterator over a sync one, each step run in the request's own
    thread (where its database cursor lives).

    Under ASGI, Django reads a streaming response's *sync* iterator into a
    list before sending anything (``StreamingHttpResponse.__aiter__``): the
    whole export would sit in memory. ``close()`` (Django calls it when the
    response is closed, also after a client went away) closes the sync one:
    its cursor, or its temporary file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self._step = sync_to_async(self._next, thread_sensitive=True)

    def _next(self) -> bytes | None:
        return next(self.chunks, None)

    def __aiter__(self) -> AsyncChunks:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._step()
        if chunk is None:
            raise StopAsyncIteration
        return chunk

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


def streaming_response(
    request: HttpRequest, chunks: Iterator[bytes], *, content_type: str
) -> StreamingHttpResponse:
    """A response that sends ``chunks`` as they come, under WSGI (a sync
    iterator) and ASGI (an async one) alike."""
    content: Any = AsyncChunks(chunks) if isinstance(request, ASGIRequest) else chunks
    return StreamingHttpResponse(content, content_type=content_type)
