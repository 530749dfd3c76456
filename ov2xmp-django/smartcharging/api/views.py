from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from accounts.scoping import charger_in_scope
from commands.api.serializers import DEFAULT_WAIT_SECONDS, WaitSerializer
from commands.api.views import OUTCOME_STATUS, enqueue
from commands.catalog import COMMANDS
from commands.selectors import await_outcome
from commands.services import command_create
from core.api.permissions import require_permission, requires
from core.api.views import Conflict
from core.time import format_timestamp, parse_timestamp, utc_now
from smartcharging.api.filters import (
    ChargingLimitFilter,
    ChargingNeedsFilter,
    ChargingProfileFilter,
    DerEventFilter,
    EvChargingScheduleFilter,
    ReportedChargingProfileFilter,
)
from smartcharging.api.serializers import (
    ChargingLimitSerializer,
    ChargingNeedsSerializer,
    ChargingProfileSerializer,
    CompositeQuerySerializer,
    DerEventSerializer,
    EvChargingScheduleSerializer,
    GridSignalSerializer,
    LoadGroupSerializer,
    OperationModeSerializer,
    ReportedChargingProfileSerializer,
)
from smartcharging.load_management import grid_signal_receive, load_group_rebalance
from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    ChargingProfile,
    ChargingProfileStatus,
    DerEvent,
    EvChargingSchedule,
    GridSignal,
    LoadGroup,
    ReportedChargingProfile,
)
from smartcharging.profiles import composite_request, reported_composite
from smartcharging.schedules import CompositePeriod
from smartcharging.selectors import expected_composite
from smartcharging.services import (
    ProfileNotSendable,
    charging_profile_clear,
    charging_profile_next_id,
    charging_profile_send,
)
from smartcharging.tasks import load_group_changed
from smartcharging.v2x import ModeNotSwitchable, transaction_operation_mode_switch
from transactions.models import Transaction


class ChargingNeedsViewSet(viewsets.ReadOnlyModelViewSet):
    """EVs' charging needs (ISO 15118 via NotifyEVChargingNeeds), newest first."""

    queryset = ChargingNeeds.objects.all()
    serializer_class = ChargingNeedsSerializer
    filterset_class = ChargingNeedsFilter
    ordering_fields = ["received_at", "departure_time"]


class EvChargingScheduleViewSet(viewsets.ReadOnlyModelViewSet):
    """Schedules EVs chose (NotifyEVChargingSchedule), newest first."""

    queryset = EvChargingSchedule.objects.all()
    serializer_class = EvChargingScheduleSerializer
    filterset_class = EvChargingScheduleFilter
    ordering_fields = ["received_at", "time_base"]


class ChargingLimitViewSet(viewsets.ReadOnlyModelViewSet):
    """Limits set on chargers by other sources (NotifyChargingLimit), with when
    they were cleared (ClearedChargingLimit); ``?active=true`` for those in force."""

    queryset = ChargingLimit.objects.all()
    serializer_class = ChargingLimitSerializer
    filterset_class = ChargingLimitFilter
    ordering_fields = ["reported_at", "cleared_at"]


class DerEventViewSet(viewsets.ReadOnlyModelViewSet):
    """What OCPP 2.1 chargers said of their DER controls: alarms
    (NotifyDERAlarm, also on the live feed as ``der.alarm``), controls started
    and stopped (NotifyDERStartStop), and reports (ReportDERControl, after a
    GetDERControl command; ``?request_id=``)."""

    queryset = DerEvent.objects.all()
    serializer_class = DerEventSerializer
    filterset_class = DerEventFilter
    ordering_fields = ["timestamp", "received_at"]


class ReportedChargingProfileViewSet(viewsets.ReadOnlyModelViewSet):
    """Charging profiles chargers said they hold (ReportChargingProfiles), by request."""

    queryset = ReportedChargingProfile.objects.all()
    serializer_class = ReportedChargingProfileSerializer
    filterset_class = ReportedChargingProfileFilter
    ordering_fields = ["reported_at", "stack_level"]


SEND_PROFILES = requires("smartcharging.change_chargingprofile", "commands.send_smart_charging")


class ChargingProfileViewSet(viewsets.ModelViewSet):
    """Charging profiles the platform keeps for chargers, in one form for
    both OCPP versions: store one (checked against its charger's version),
    then send it (SetChargingProfile) or clear it (ClearChargingProfile);
    ``status`` says whether the charger holds it."""

    queryset = ChargingProfile.objects.select_related("created_by")
    serializer_class = ChargingProfileSerializer
    filterset_class = ChargingProfileFilter
    ordering_fields = ["created_at", "stack_level", "profile_id"]

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        charge_point_id = serializer.validated_data["charge_point_id"]
        serializer.save(
            profile_id=charging_profile_next_id(charge_point_id=charge_point_id),
            created_by=self.request.user,
        )

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        # Changed here, not yet at the charger: send it again.
        serializer.save(status=ChargingProfileStatus.DRAFT, status_at=utc_now())

    def perform_destroy(self, instance: ChargingProfile) -> None:
        if instance.status in (ChargingProfileStatus.ACCEPTED, ChargingProfileStatus.SENT):
            raise Conflict("The charger holds this profile (or may): clear it first.")
        instance.delete()

    def _deliver(self, request: Request, send: Any) -> Response:
        options = WaitSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        profile = self.get_object()
        try:
            command = send(profile=profile, created_by=request.user, at=utc_now())
        except ProfileNotSendable as error:
            raise serializers.ValidationError(error.errors) from error
        enqueue(command)
        command = await_outcome(command, options.validated_data["wait"])
        profile.refresh_from_db()
        body = ChargingProfileSerializer(profile, context={"request": request}).data
        return Response(
            {**body, "answer": command.response, "command_status": command.status},
            status=OUTCOME_STATUS.get(command.status, HTTPStatus.ACCEPTED),  # type: ignore[call-overload]
        )

    @extend_schema(request=WaitSerializer, responses={200: ChargingProfileSerializer})
    @action(detail=True, methods=["post"], permission_classes=[SEND_PROFILES])
    def send(self, request: Request, pk: str | None = None) -> Response:
        """Send the profile to its charger (SetChargingProfile); 200 with the
        charger's answer, which sets ``status``."""
        return self._deliver(request, charging_profile_send)

    @extend_schema(request=WaitSerializer, responses={200: ChargingProfileSerializer})
    @action(detail=True, methods=["post"], permission_classes=[SEND_PROFILES])
    def clear(self, request: Request, pk: str | None = None) -> Response:
        """Clear the profile from its charger (ClearChargingProfile)."""
        return self._deliver(request, charging_profile_clear)


def _v2x(period: CompositePeriod) -> dict[str, Any]:
    """A composite period's OCPP 2.1 fields, where a profile gave them."""
    if not period.operation_mode:
        return {}
    return {
        "operation_mode": period.operation_mode,
        "setpoint": None if period.setpoint is None else str(period.setpoint),
        "discharge_limit": None if period.discharge_limit is None else str(period.discharge_limit),
    }


class CompositeScheduleView(GenericAPIView):
    """``/api/chargepoints/<id>/composite-schedule/``: the limit an EVSE (or
    the whole charger, ``evse_id`` 0) will apply, computed from the profiles
    the charger accepted. POST also asks the charger (GetCompositeSchedule)
    and shows its answer beside, computed from the charger's own start."""

    queryset = ChargingProfile.objects.all()
    serializer_class = CompositeQuerySerializer

    def get(self, request: Request, charge_point_id: str) -> Response:
        return self._answer(request, charge_point_id, request.query_params, ask=False)

    def post(self, request: Request, charge_point_id: str) -> Response:
        require_permission(request.user, "commands.send_inspect", "Asking the charger")
        return self._answer(request, charge_point_id, request.data, ask=True)

    def get_permissions(self) -> list[Any]:
        # Reading the expected schedule (either method) needs the profiles' view permission.
        return [requires("smartcharging.view_chargingprofile")()]

    def _answer(self, request: Request, charge_point_id: str, data: Any, ask: bool) -> Response:
        charger = charger_in_scope(request.user, charge_point_id)
        if charger is None:
            raise NotFound(f"No charger {charge_point_id!r}.")
        query = CompositeQuerySerializer(data=data)
        query.is_valid(raise_exception=True)
        evse_id, duration, unit = (query.validated_data[k] for k in ("evse_id", "duration", "unit"))
        start = query.validated_data.get("start") or utc_now()
        reported: dict[str, Any] = {}
        if ask:
            if not charger.ocpp_version:
                raise Conflict(f"{charger.id} has never connected.")
            spec = COMMANDS[(charger.ocpp_version, "GetCompositeSchedule")]
            command = command_create(
                charge_point_id=charger.id,
                spec=spec,
                payload=composite_request(
                    ocpp_version=charger.ocpp_version, evse_id=evse_id, duration=duration, unit=unit
                ),
                created_by=request.user,
            )
            enqueue(command)
            command = await_outcome(command, DEFAULT_WAIT_SECONDS)
            schedule = reported_composite(command.response, ocpp_version=charger.ocpp_version)
            reported = {
                "command": str(command.id),
                "command_status": command.status,
                "answer": command.response,
                "schedule": schedule,
            }
            if schedule and schedule["start"]:
                start = parse_timestamp(schedule["start"])
        composite, profile_ids = expected_composite(
            charge_point_id=charger.id, evse_id=evse_id, start=start, duration=duration, unit=unit
        )
        body = {
            "charge_point": charger.id,
            "evse_id": evse_id,
            "expected": {
                "start": format_timestamp(composite.start),
                "duration": composite.duration,
                "unit": composite.unit,
                "periods": [
                    {
                        "start_period": period.start,
                        "limit": None if period.limit is None else str(period.limit),
                        "number_phases": period.phases,
                        "profile_id": period.profile_id,
                        **_v2x(period),
                    }
                    for period in composite.periods
                ],
                "profiles": profile_ids,
            },
        }
        if ask:
            body["reported"] = reported
        return Response(body)


class LoadGroupViewSet(viewsets.ModelViewSet):
    """Sites (a location's chargers, or chosen ones) sharing one grid
    connection: the maximum import power, optionally by time of day, is
    divided among the sessions charging there and sent to each as a
    TxProfile. Rebalanced when a session starts or ends, and on every change
    here."""

    queryset = LoadGroup.objects.prefetch_related("charge_points")
    serializer_class = LoadGroupSerializer
    filterset_fields = ["location", "enabled"]

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        group = serializer.save()
        transaction.on_commit(lambda: load_group_changed(group.pk))

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        group = serializer.save()
        transaction.on_commit(lambda: load_group_changed(group.pk))

    @extend_schema(request=None, responses={200: ChargingProfileSerializer(many=True)})
    @action(detail=True, methods=["post"], permission_classes=[SEND_PROFILES])
    def rebalance(self, request: Request, pk: str | None = None) -> Response:
        """Divide the limit again now; answers the profiles sent, one per session."""
        group = self.get_object()
        commands = load_group_rebalance(group_id=group.pk, at=utc_now())
        for command in commands:
            enqueue(command)
        profiles = ChargingProfile.objects.filter(
            load_group=group, command__in=[command.id for command in commands]
        )
        return Response(
            ChargingProfileSerializer(profiles, many=True, context={"request": request}).data
        )


class GridSignalViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Signals from the grid operator (DSO) for a site: a capacity limit or a
    price, for a time. Each lowers the load group's limit while in force and
    rebalances the group at once. The same signal sent again (same source
    and signal_id) answers 200 and changes nothing; different values for it
    correct it (201)."""

    queryset = GridSignal.objects.all()
    serializer_class = GridSignalSerializer
    filterset_fields = ["load_group", "kind", "source"]
    ordering_fields = ["start", "received_at"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        signal, changed = grid_signal_receive(
            load_group=data.pop("load_group"),
            source=data.pop("source"),
            signal_id=data.pop("signal_id"),
            at=utc_now(),
            **data,
        )
        body = self.get_serializer(signal).data
        return Response(body, status=HTTPStatus.CREATED if changed else HTTPStatus.OK)


class OperationModeView(GenericAPIView):
    """``POST /api/transactions/<id>/operation-mode/``: switch a session on an
    OCPP 2.1 charger to a V2X operation mode (ChargingOnly, CentralSetpoint,
    Idle …) with a TxProfile; 200 with the charger's answer. The mode the
    charger then runs in shows in the session's ``operation_mode``."""

    queryset = Transaction.objects.select_related("charge_point")
    serializer_class = OperationModeSerializer

    def get_permissions(self) -> list[Any]:
        return [
            requires(
                "smartcharging.add_chargingprofile",
                "smartcharging.change_chargingprofile",
                "commands.send_smart_charging",
            )()
        ]

    @extend_schema(
        request=OperationModeSerializer,
        responses={
            200: inline_serializer(
                "OperationModeAnswer",
                {
                    "transaction": serializers.IntegerField(),
                    "requested_operation_mode": serializers.CharField(),
                    "operation_mode": serializers.CharField(
                        help_text="What the charger last reported."
                    ),
                    "profile": ChargingProfileSerializer(),
                    "answer": serializers.JSONField(allow_null=True),
                    "command_status": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        session = self.get_object()
        options = OperationModeSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        data = options.validated_data
        try:
            profile, command = transaction_operation_mode_switch(
                transaction=session,
                mode=data["operation_mode"],
                setpoint_w=data.get("setpoint_w"),
                discharge_limit_w=data.get("discharge_limit_w"),
                limit_w=data.get("limit_w"),
                created_by=request.user,
                at=utc_now(),
            )
        except ModeNotSwitchable as error:
            raise serializers.ValidationError(error.errors) from error
        enqueue(command)
        command = await_outcome(command, data["wait"])
        profile.refresh_from_db()
        session.refresh_from_db()
        body = ChargingProfileSerializer(profile, context={"request": request}).data
        return Response(
            {
                "transaction": session.pk,
                "requested_operation_mode": data["operation_mode"],
                "operation_mode": session.operation_mode,
                "profile": body,
                "answer": command.response,
                "command_status": command.status,
            },
            status=OUTCOME_STATUS.get(command.status, HTTPStatus.ACCEPTED),  # type: ignore[call-overload]
        )
