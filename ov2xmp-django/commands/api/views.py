from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, ClassVar

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.roles import send_permission
from commands.api.filters import CommandFilter
from commands.api.serializers import CommandSerializer, request_serializer, result_serializer
from commands.catalog import CommandSpec
from commands.models import UNSENT_STATUSES, Command, CommandStatus
from commands.selectors import await_outcome
from commands.services import command_cancel, command_create, command_dispatch_queue
from core.api.permissions import require_permission, requires
from core.api.views import Conflict
from core.time import utc_now

logger = logging.getLogger(__name__)

# The HTTP status that tells how a command ended (pending ones: 202).
OUTCOME_STATUS = {
    CommandStatus.ANSWERED: HTTPStatus.OK,
    CommandStatus.NOT_CONNECTED: HTTPStatus.CONFLICT,
    CommandStatus.EXPIRED: HTTPStatus.CONFLICT,
    CommandStatus.CANCELLED: HTTPStatus.CONFLICT,
    CommandStatus.CALL_ERROR: HTTPStatus.BAD_GATEWAY,
    CommandStatus.FAILED: HTTPStatus.BAD_GATEWAY,
    CommandStatus.TIMED_OUT: HTTPStatus.GATEWAY_TIMEOUT,
}


class QueueUnavailable(APIException):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    default_detail = "The task queue is unavailable; the command was not sent."
    default_code = "queue_unavailable"


def enqueue(command: Command) -> None:
    """Hand a new command to the dispatch task; 503 if the queue is down (the
    command is then recorded as Failed, never sent)."""
    if not command_dispatch_queue(command=command):
        raise QueueUnavailable()


class MaySend(BasePermission):
    """Sending a command needs the permission of its category
    (``commands.send_operate`` for Reset, …; accounts.roles)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        permission = send_permission(view.spec.action)
        self.message = f"Sending {view.spec.action} needs the permission {permission}."
        return bool(request.user and request.user.is_authenticated) and request.user.has_perm(
            permission
        )


class SendCommandView(GenericAPIView):
    """Base of the one view per OCPP command and version (see ``send_views``)."""

    queryset = Command.objects.all()
    permission_classes = [MaySend]
    spec: ClassVar[CommandSpec]

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        charge_point = data["charge_point"]
        if charge_point.ocpp_version and charge_point.ocpp_version != self.spec.ocpp_version:
            raise Conflict(
                f"{charge_point.id} speaks OCPP {charge_point.ocpp_version}: use "
                f"/api/commands/ocpp{charge_point.ocpp_version.replace('.', '')}/"
                f"{self.spec.action}/ if it has this command."
            )
        command = command_create(
            charge_point_id=charge_point.id,
            spec=self.spec,
            payload=data["payload"],
            hold_seconds=data["hold_seconds"],
            created_by=request.user,
        )
        enqueue(command)
        command = await_outcome(command, data["wait"])
        body = result_serializer(self.spec)(command, context={"request": request}).data
        url = reverse("command-detail", args=[command.id], request=request)
        return Response(
            body,
            status=OUTCOME_STATUS.get(command.status, HTTPStatus.ACCEPTED),  # type: ignore[call-overload]
            headers={"Location": url},
        )


def send_view(spec: CommandSpec) -> type[SendCommandView]:
    result = result_serializer(spec)
    failure = OpenApiResponse(result, description="How it failed: see status and error_*.")
    described = extend_schema(
        operation_id=f"send_{spec.url_segment}_{spec.action}",
        summary=f"{spec.action} (OCPP {spec.ocpp_version})",
        description=(
            f"Send OCPP {spec.ocpp_version} **{spec.action}** to a charger. The body's "
            "`payload` is the OCPP request exactly as the specification writes it; it is "
            "checked against the OCPP schema before anything is sent (400 with the errors "
            "by field). One command at a time goes to each charger, in order."
        ),
        tags=[f"Commands: OCPP {spec.ocpp_version}"],
        request=request_serializer(spec),
        responses={
            200: OpenApiResponse(result, description="The charger answered."),
            202: OpenApiResponse(
                result, description="Not answered yet (or held): read it at `Location`."
            ),
            400: OpenApiResponse(description="Invalid request: errors by field."),
            409: failure,
            502: failure,
            503: OpenApiResponse(description="The task queue is unavailable."),
            504: failure,
        },
    )

    # A function of its own per command: extend_schema annotates the function.
    def post(self: SendCommandView, request: Request) -> Response:
        return SendCommandView.post(self, request)

    attributes: dict[str, Any] = {
        "spec": spec,
        "serializer_class": request_serializer(spec),
        "post": described(post),
        "__module__": __name__,
        "__doc__": f"OCPP {spec.ocpp_version} {spec.action}.",
    }
    return type(
        f"Send{spec.url_segment.capitalize()}{spec.action}View", (SendCommandView,), attributes
    )


class CommandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every command sent (or held, or refused), newest first, with its outcome
    and who sent it."""

    queryset = Command.objects.select_related("created_by").prefetch_related("reports").all()
    serializer_class = CommandSerializer
    filterset_class = CommandFilter
    ordering_fields = ["created_at", "sent_at", "finished_at"]
    lookup_value_regex = "[0-9a-f-]{36}"

    @extend_schema(request=None, responses={200: CommandSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"], permission_classes=[requires("commands.view_command")])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a command that has not been sent yet (queued or held): who
        may send it may cancel it."""
        command = self.get_object()
        require_permission(
            request.user, send_permission(command.action), f"Cancelling {command.action}"
        )
        if command.status in UNSENT_STATUSES:
            command = command_cancel(command_id=command.id, at=utc_now())
            if command.status == CommandStatus.CANCELLED:
                return Response(CommandSerializer(command, context={"request": request}).data)
        raise Conflict(f"The command is {command.status}: only unsent ones can be cancelled.")
