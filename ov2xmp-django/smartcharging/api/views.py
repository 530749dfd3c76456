from rest_framework import viewsets

from smartcharging.api.filters import (
    ChargingLimitFilter,
    ChargingNeedsFilter,
    EvChargingScheduleFilter,
    ReportedChargingProfileFilter,
)
from smartcharging.api.serializers import (
    ChargingLimitSerializer,
    ChargingNeedsSerializer,
    EvChargingScheduleSerializer,
    ReportedChargingProfileSerializer,
)
from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    EvChargingSchedule,
    ReportedChargingProfile,
)


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


class ReportedChargingProfileViewSet(viewsets.ReadOnlyModelViewSet):
    """Charging profiles chargers said they hold (ReportChargingProfiles), by request."""

    queryset = ReportedChargingProfile.objects.all()
    serializer_class = ReportedChargingProfileSerializer
    filterset_class = ReportedChargingProfileFilter
    ordering_fields = ["reported_at", "stack_level"]
