from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.scoping import charger_in_scope
from chargepoints.models import ChargePoint
from commands.api.serializers import CommandSerializer, WaitSerializer
from commands.api.views import OUTCOME_STATUS, enqueue
from commands.catalog import command_spec
from commands.models import Command, CommandStatus
from commands.selectors import await_outcome
from commands.services import command_create
from core.api.permissions import ModelPermissions, requires
from core.api.views import Conflict
from core.time import utc_now
from idtokens.api.filters import IdTokenFilter, LocalListUpdateFilter
from idtokens.api.serializers import (
    IdTokenSerializer,
    LocalListSendSerializer,
    LocalListSerializer,
    LocalListUpdateSerializer,
    LocalListVersionSerializer,
)
from idtokens.models import IdToken, LocalListUpdate, LocalListUpdateStatus
from idtokens.services import (
    LocalListRefused,
    local_list_entries,
    local_list_held,
    local_list_update_start,
)


class IdTokenViewSet(viewsets.ModelViewSet):
    """Tokens drivers present (RFID cards, key codes, app tokens). Authorize
    and transaction starts are answered from here."""

    queryset = IdToken.objects.select_related("parent")
    serializer_class = IdTokenSerializer
    filterset_class = IdTokenFilter
    ordering_fields = ["value", "type", "status", "expires_at", "created_at"]


class LocalListUpdateViewSet(viewsets.ReadOnlyModelViewSet):
    """Every local authorization list update the platform sent, newest
    first: version, what it carried, the whole list, the charger's answer."""

    queryset = LocalListUpdate.objects.select_related("command", "created_by").prefetch_related(
        "recovered_by", "command__reports"
    )
    serializer_class = LocalListUpdateSerializer
    filterset_class = LocalListUpdateFilter
    ordering_fields = ["created_at", "version_number"]


def _charger(request: Request, charge_point_id: str) -> ChargePoint:
    """The charger of the URL; outside the user's scope it does not exist."""
    charge_point = charger_in_scope(request.user, charge_point_id)
    if charge_point is None:
        raise Http404(f"Unknown charger {charge_point_id!r}.")
    return charge_point


def _connected_once(charge_point: ChargePoint) -> None:
    if not charge_point.ocpp_version:
        raise Conflict(f"{charge_point.id} has never connected: its OCPP version is not known.")


class LocalListPermissions(ModelPermissions):
    """Reading a charger's list: view the charger and the updates. Sending
    one: add an update and send the configure commands (SendLocalList)."""

    extra = {
        "GET": ("chargepoints.view_chargepoint",),
        "POST": ("chargepoints.view_chargepoint", "commands.send_configure"),
    }

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and request.user.has_perms(
            self.extra.get(request.method or "", ())
        )


class LocalListView(GenericAPIView):
    """A charger's local authorization list (OCPP SendLocalList), built from
    the id tokens: those of the charger's ``local_list_group``, or all."""

    queryset = LocalListUpdate.objects.all()
    permission_classes = [LocalListPermissions]
    serializer_class = LocalListSendSerializer

    @extend_schema(responses={200: LocalListSerializer, 404: None})
    def get(self, request: Request, pk: str) -> Response:
        """The version the charger holds, the tokens on it (as the platform
        sent them), and the tokens it should hold now."""
        charge_point = _charger(request, pk)
        update = local_list_held(charge_point=charge_point)
        current = (
            local_list_entries(charge_point=charge_point, at=utc_now())
            if charge_point.ocpp_version
            else []
        )
        body = {
            "charge_point": charge_point.id,
            "local_list_version": charge_point.local_list_version,
            "local_list_group": charge_point.local_list_group_id,
            "held_update": update.pk if update else None,
            "entries": update.full_list if update else [],
            "current": current,
        }
        return Response(LocalListSerializer(body).data)

    @extend_schema(
        request=LocalListSendSerializer,
        responses={
            201: LocalListUpdateSerializer,
            202: OpenApiResponse(LocalListUpdateSerializer, description="Not answered yet."),
            400: OpenApiResponse(description="Invalid request."),
            404: OpenApiResponse(description="Unknown charger."),
            409: OpenApiResponse(
                description="Not connected, never connected, or the list is longer than "
                "the charger takes (the message says which limit)."
            ),
            502: OpenApiResponse(LocalListUpdateSerializer, description="The command failed."),
            504: OpenApiResponse(LocalListUpdateSerializer, description="No answer in time."),
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        """Send the list, Full or Differential, under a new version number.
        201 once answered: ``status`` is the charger's answer (Accepted,
        Failed, NotSupported). A Differential update answered VersionMismatch
        is followed at once by a Full one: the answer is then that update,
        its ``recovers`` naming the mismatched one."""
        charge_point = _charger(request, pk)
        incoming = LocalListSendSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        _connected_once(charge_point)
        data = incoming.validated_data
        try:
            update = local_list_update_start(
                charge_point_id=charge_point.id,
                update_type=data["update_type"],
                created_by=request.user,
                at=utc_now(),
            )
        except LocalListRefused as error:
            raise Conflict(str(error)) from error
        deadline = time.monotonic() + data["wait"]
        assert update.command is not None
        enqueue(update.command)
        command = await_outcome(update.command, data["wait"])
        update.refresh_from_db()
        recovery = update.recovered_by.select_related("command").first()
        if update.status == LocalListUpdateStatus.VERSION_MISMATCH and recovery is not None:
            assert recovery.command is not None
            command = await_outcome(recovery.command, max(0.0, deadline - time.monotonic()))
            update = recovery
        update = self.get_queryset().get(pk=update.pk)
        body = LocalListUpdateSerializer(update, context={"request": request}).data
        return Response(body, status=_outcome(command, answered=HTTPStatus.CREATED))


def _outcome(command: Command, *, answered: int) -> int:
    if command.status == CommandStatus.ANSWERED:
        return answered
    return OUTCOME_STATUS.get(command.status, HTTPStatus.ACCEPTED)  # type: ignore[call-overload]


class LocalListVersionView(GenericAPIView):
    """Ask a charger which version of the local list it holds
    (GetLocalListVersion); the answer is recorded on the charger."""

    queryset = ChargePoint.objects.all()
    permission_classes = [requires("chargepoints.view_chargepoint", "commands.send_inspect")]
    serializer_class = WaitSerializer

    @extend_schema(
        request=WaitSerializer,
        responses={
            200: LocalListVersionSerializer,
            202: LocalListVersionSerializer,
            404: None,
            409: LocalListVersionSerializer,
            502: LocalListVersionSerializer,
            504: LocalListVersionSerializer,
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        charge_point = _charger(request, pk)
        incoming = WaitSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        _connected_once(charge_point)
        command = command_create(
            charge_point_id=charge_point.id,
            spec=command_spec(charge_point.ocpp_version, "GetLocalListVersion"),
            payload={},
            created_by=request.user,
        )
        enqueue(command)
        command = await_outcome(command, incoming.validated_data["wait"])
        charge_point.refresh_from_db()
        body = {
            "charge_point": charge_point.id,
            "local_list_version": charge_point.local_list_version,
            "command": CommandSerializer(command, context={"request": request}).data,
        }
        return Response(body, status=_outcome(command, answered=HTTPStatus.OK))
