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
    # OCPP 2.1, bidirectional charging.
    v2x_charging_parameters = models.JSONField(
        null=True,
        blank=True,
        help_text="2.1: the EV's charge and discharge powers, currents and energies.",
    )
    control_mode = models.CharField(
        max_length=20, blank=True, help_text="2.1: ScheduledControl or DynamicControl."
    )
    mobility_needs_mode = models.CharField(
        max_length=20, blank=True, help_text="2.1: EVCC (the EV decides) or EVCC_SECC."
    )
    available_energy_transfer = models.JSONField(
        default=list, blank=True, help_text="2.1: the energy transfer modes the EV offers."
    )
    der_charging_parameters = models.JSONField(null=True, blank=True)
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


class DerEventKind(models.TextChoices):
    ALARM = "alarm"  # NotifyDERAlarm
    STARTED = "started"  # NotifyDERStartStop
    STOPPED = "stopped"
    REPORT = "report"  # ReportDERControl, answering GetDERControl


class DerEvent(models.Model):
    """What an OCPP 2.1 charger says of the controls of its distributed
    energy resource (the EV's inverter as seen by the grid): an alarm, a
    control starting or stopping, or a part of a report of its controls."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="der_events"
    )
    kind = models.CharField(max_length=8, choices=DerEventKind.choices)
    control_type = models.CharField(
        max_length=24, blank=True, help_text="Alarm: the DER control (FreqDroop, VoltVar …)."
    )
    control_id = models.CharField(
        max_length=36, blank=True, help_text="Start/stop: the control's id."
    )
    grid_event_fault = models.CharField(max_length=24, blank=True)
    alarm_ended = models.BooleanField(null=True, blank=True)
    request_id = models.IntegerField(null=True, blank=True, help_text="Report: GetDERControl's.")
    details = models.JSONField(
        default=dict, blank=True, help_text="The rest of the message, as reported."
    )
    timestamp = models.DateTimeField(help_text="As the charger said; reports: when received.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["charge_point", "-timestamp"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id} DER {self.kind} {self.control_type or self.control_id}"


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


class ChargingProfilePurpose(models.TextChoices):
    # OCPP 1.6 calls it ChargePointMaxProfile.
    STATION_MAX = "ChargingStationMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"
    # Set by an external system at the charger (2.0.1): stored and computed,
    # never sent by the CSMS.
    EXTERNAL = "ChargingStationExternalConstraints"


class ChargingProfileKind(models.TextChoices):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(models.TextChoices):
    NONE = "", "Not recurring"
    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingRateUnit(models.TextChoices):
    AMPS = "A", "Amperes (per phase)"
    WATTS = "W", "Watts"


class ChargingProfileStatus(models.TextChoices):
    DRAFT = "Draft", "Stored, not sent"
    SENT = "Sent", "Sent, no answer yet"
    ACCEPTED = "Accepted", "The charger holds it"
    REJECTED = "Rejected", "The charger refused it"
    FAILED = "Failed", "Not delivered (offline, no answer, CallError)"
    CLEARED = "Cleared", "Cleared from the charger"


class ChargingProfile(models.Model):
    """A charging profile the platform keeps for a charger, in one form for
    every OCPP version (smartcharging/profiles.py turns it into either), and
    whether the charger holds it."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="charging_profiles"
    )
    evse_id = models.PositiveIntegerField(
        default=0, help_text="The EVSE (1.6: connector) it is for; 0: the whole charger."
    )
    profile_id = models.PositiveIntegerField(
        help_text="The OCPP chargingProfileId: unique per charger, given by the platform."
    )
    stack_level = models.PositiveSmallIntegerField()
    purpose = models.CharField(max_length=40, choices=ChargingProfilePurpose.choices)
    kind = models.CharField(max_length=10, choices=ChargingProfileKind.choices)
    recurrency_kind = models.CharField(
        max_length=8, choices=RecurrencyKind.choices, blank=True, default=""
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    transaction = models.ForeignKey(
        "transactions.Transaction",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="charging_profiles",
        help_text="TxProfile: the session it limits.",
    )
    charging_rate_unit = models.CharField(max_length=1, choices=ChargingRateUnit.choices)
    start_schedule = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds; empty: the last period lasts."
    )
    min_charging_rate = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    periods = models.JSONField(
        help_text='[{"start_period": 0, "limit": "16.0", "number_phases": 3}, …]: '
        "seconds from the schedule's start, the limit in the unit."
    )
    status = models.CharField(
        max_length=10, choices=ChargingProfileStatus.choices, default=ChargingProfileStatus.DRAFT
    )
    status_at = models.DateTimeField(null=True, blank=True)
    command = models.ForeignKey(
        "commands.Command",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The last command that sent or cleared it.",
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    load_group = models.ForeignKey(
        "LoadGroup",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="profiles",
        help_text="The load group that made and keeps it (its session's share).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["charge_point_id", "evse_id", "purpose", "-stack_level"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "profile_id"], name="charging_profile_unique_id_per_cp"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} profile {self.profile_id} ({self.purpose})"


class LoadGroup(models.Model):
    """Chargers that share one connection to the grid (a site: a location's
    chargers, or chosen ones): its maximum import power is divided among the
    sessions charging there (smartcharging/allocation.py), and each gets a
    TxProfile with its share."""

    name = models.CharField(max_length=100)
    location = models.ForeignKey(
        "locations.Location",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="load_groups",
        help_text="Every charger of this location belongs to the group.",
    )
    charge_points = models.ManyToManyField(
        ChargePoint, blank=True, related_name="load_groups", help_text="And/or these chargers."
    )
    max_import_w = models.PositiveIntegerField(
        help_text="The limit, W, unless a daily one says otherwise."
    )
    daily_limits = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"from": "17:00", "max_import_w": 20000}, …]: from that time of day '
        "(the location's time zone, else UTC) until the next entry, or midnight.",
    )
    session_minimum_w = models.PositiveIntegerField(
        default=1380,
        help_text="The least a session is given unless paused (6 A on one phase: 1,380 W).",
    )
    session_maximum_w = models.PositiveIntegerField(
        default=22080,
        help_text="The most a session takes when its connector's maximum power is not known.",
    )
    stack_level = models.PositiveSmallIntegerField(
        default=50, help_text="The stack level of the TxProfiles the group sends."
    )
    expensive_price_per_kwh = models.DecimalField(
        max_digits=10,
        decimal_places=5,
        null=True,
        blank=True,
        help_text="While a grid price signal is at or above this, the limit is "
        "expensive_max_import_w (empty: prices change nothing).",
    )
    expensive_max_import_w = models.PositiveIntegerField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    rebalanced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class GridSignalKind(models.TextChoices):
    CAPACITY = "capacity", "A maximum import power (W)"
    PRICE = "price", "An energy price (per kWh)"


class GridSignal(models.Model):
    """What the grid operator (DSO) says about a site for a time: a capacity
    limit, or a price that the group turns into one (docs/smart-charging.md).
    Kept, with when it was applied, so that what the chargers were told can
    be explained."""

    load_group = models.ForeignKey(LoadGroup, on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(max_length=8, choices=GridSignalKind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    max_import_w = models.PositiveIntegerField(null=True, blank=True)
    price_per_kwh = models.DecimalField(max_digits=10, decimal_places=5, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    source = models.CharField(max_length=100, help_text="Who sent it (the DSO's name or id).")
    signal_id = models.CharField(
        max_length=100, help_text="The sender's id for it: sending it again changes nothing."
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["load_group", "source", "signal_id"], name="grid_signal_unique_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} for {self.load_group} from {self.start:%Y-%m-%d %H:%M}"
