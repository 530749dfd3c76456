from __future__ import annotations

from http import HTTPStatus

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from commands.api.serializers import WaitSerializer
from commands.api.views import OUTCOME_STATUS, enqueue
from commands.models import Command, CommandStatus
from commands.selectors import await_outcome
from core.api.permissions import ChangeOnPost, require_permission
from core.api.views import Conflict
from core.time import utc_now
from reservations.api.filters import ReservationFilter
from reservations.api.serializers import (
    ReservationCreateSerializer,
    ReservationSerializer,
)
from reservations.models import ACTIVE_STATUSES, Reservation, ReservationStatus
from reservations.services import reservation_cancel_start, reservation_create

SEND_SESSIONS = "commands.send_sessions"
RESPONSES = {
    202: OpenApiResponse(ReservationSerializer, description="Not answered yet."),
    400: OpenApiResponse(description="Invalid request: errors by field."),
    403: OpenApiResponse(description="Missing permission."),
    409: OpenApiResponse(
        ReservationSerializer, description="Charger not connected, or the charger refused."
    ),
    502: OpenApiResponse(ReservationSerializer, description="The command failed."),
    504: OpenApiResponse(ReservationSerializer, description="No answer in time."),
}


def _outcome(command: Command, *, answered: int) -> int:
    if command.status == CommandStatus.ANSWERED:
        return answered
    return OUTCOME_STATUS.get(command.status, HTTPStatus.ACCEPTED)  # type: ignore[call-overload]


class ReservationViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Reservations: made here (ReserveNow, to either OCPP version), cancelled
    (CancelReservation), and how they ended: cancelled, expired (by the
    platform at their expiry, or as a 2.0.1 charger reports), removed, or
    used by a transaction of their token."""

    queryset = Reservation.objects.select_related(
        "command", "cancel_command", "created_by"
    ).prefetch_related("command__reports", "cancel_command__reports")
    serializer_class = ReservationSerializer
    filterset_class = ReservationFilter
    ordering_fields = ["created_at", "expires_at", "status_at"]

    @extend_schema(
        request=ReservationCreateSerializer,
        responses={201: ReservationSerializer, **RESPONSES},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Reserve an EVSE (or any EVSE) of a charger for a token until
        ``expires_at``: the platform allocates the reservation id and sends
        ReserveNow. 201 once the charger answered: ``status`` is its answer
        (Accepted, Faulted, Occupied, Rejected, Unavailable). A charger that
        is not connected: 409 and status Failed."""
        require_permission(request.user, SEND_SESSIONS, "Reserving")
        incoming = ReservationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        reservation = reservation_create(
            charge_point_id=data["charge_point"].id,
            evse_id=data["evse_id"],
            id_token=data["token"],
            group=data["group"],
            expires_at=data["expires_at"],
            connector_type=data.get("connector_type", ""),
            created_by=request.user,
            at=utc_now(),
        )
        assert reservation.command is not None
        enqueue(reservation.command)
        command = await_outcome(reservation.command, data["wait"])
        reservation = self.get_queryset().get(pk=reservation.pk)
        body = ReservationSerializer(reservation, context=self.get_serializer_context()).data
        return Response(body, status=_outcome(command, answered=HTTPStatus.CREATED))

    @extend_schema(request=WaitSerializer, responses={200: ReservationSerializer, **RESPONSES})
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPost])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel an accepted reservation: CancelReservation to the charger.
        Accepted: the reservation is Cancelled (200). The charger's Rejected
        (it holds no such reservation): 409, with its answer on
        ``cancel_command``."""
        require_permission(request.user, SEND_SESSIONS, "Cancelling a reservation")
        reservation = self.get_object()
        wait = WaitSerializer(data=request.data)
        wait.is_valid(raise_exception=True)
        if reservation.status not in ACTIVE_STATUSES:
            raise Conflict(
                f"The reservation is {reservation.status}: only accepted ones can be cancelled."
            )
        command = reservation_cancel_start(
            reservation=reservation, created_by=request.user, at=utc_now()
        )
        enqueue(command)
        command = await_outcome(command, wait.validated_data["wait"])
        reservation = self.get_queryset().get(pk=reservation.pk)
        body = ReservationSerializer(reservation, context=self.get_serializer_context()).data
        status = _outcome(command, answered=HTTPStatus.OK)
        if command.status == CommandStatus.ANSWERED and reservation.status != (
            ReservationStatus.CANCELLED
        ):
            status = HTTPStatus.CONFLICT
        return Response(body, status=status)
