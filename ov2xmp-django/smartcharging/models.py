"""What OCPP 2.0.1 chargers report about charging power: the EV's needs and
its own schedule (ISO 15118), limits set by others (an EMS, the grid operator),
and the charging profiles the charger really holds."""

from django.db import models

from chargepoints.models import ChargePoint


class ChargingNeeds(models.Model):
    """An EV's charging needs, as the charger relayed them (NotifyEVChargingNeeds)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="charging_needs"
    )
    evse_id = models.PositiveIntegerField()
    transaction = models.ForeignKey(
        "transactions.Transaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="charging_needs",
        help_text="The session running on the EVSE when the needs arrived.",
    )
    requested_energy_transfer = models.CharField(
        max_length=24, help_text="DC, AC_single_phase, AC_two_phase, AC_three_phase."
    )
    departure_time = models.DateTimeField(null=True, blank=True)
    max_schedule_tuples = models.PositiveIntegerField(null=True, blank=True)
    ac_charging_parameters = models.JSONField(null=True, blank=True)
    dc_charging_parameters = models.JSONField(null=True, blank=True)
    answered_status = models.CharField(max_length=16)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "charging needs"
        indexes = [models.Index(fields=["charge_point", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id}/{self.evse_id} needs {self.requested_energy_transfer}"


class EvChargingSchedule(models.Model):
    """The schedule an EV chose from the limits it was given (NotifyEVChargingSchedule)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="ev_charging_schedules"
    )
    evse_id = models.PositiveIntegerField()
    transaction = models.ForeignKey(
        "transactions.Transaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ev_charging_schedules",
    )
    time_base = models.DateTimeField(help_text="Periods start relative to this time.")
    charging_schedule = models.JSONField(help_text="OCPP ChargingScheduleType, as reported.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id}/{self.evse_id} EV schedule at {self.time_base}"


class ChargingLimit(models.Model):
    """A limit set on the charger by a source other than this CSMS (an energy
    management system, the system operator …): NotifyChargingLimit, until the
    charger reports it cleared (ClearedChargingLimit)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="charging_limits"
    )
    evse_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the charger as a whole."
    )
    source = models.CharField(max_length=8, help_text="EMS, Other, SO, CSO.")
    is_grid_critical = models.BooleanField(null=True, blank=True)
    charging_schedules = models.JSONField(
        default=list, blank=True, help_text="OCPP ChargingScheduleType list, as reported."
    )
    reported_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "source", "cleared_at"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id} limit from {self.source}"


class ReportedChargingProfile(models.Model):
    """A charging profile the charger said it holds (ReportChargingProfiles,
    answering GetChargingProfiles with ``request_id``)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="reported_charging_profiles"
    )
    request_id = models.IntegerField()
    evse_id = models.PositiveIntegerField(help_text="0: the charger as a whole.")
    charging_limit_source = models.CharField(max_length=8)
    profile_id = models.IntegerField()
    stack_level = models.PositiveIntegerField()
    purpose = models.CharField(max_length=40)
    kind = models.CharField(max_length=16)
    profile = models.JSONField(help_text="OCPP ChargingProfileType, as reported.")
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reported_at", "evse_id", "stack_level"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "request_id", "evse_id", "profile_id"],
                name="reportedchargingprofile_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}/{self.evse_id} profile {self.profile_id}"
