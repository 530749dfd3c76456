from decimal import Decimal

from django.db import models
from django.db.models import Q

from chargepoints.models import ChargePoint, OcppVersion

ENERGY_REGISTER = "Energy.Active.Import.Register"
# Energy the EV gave back (V2X), and the power flowing each way.
EXPORT_REGISTER = "Energy.Active.Export.Register"
POWER_IMPORT = "Power.Active.Import"
POWER_EXPORT = "Power.Active.Export"
# The 2.0.1 charging state of a car that stopped drawing power by itself.
PAUSED = "SuspendedEV"
# The energy register's units (OCPP's default is Wh).
WH_PER_UNIT = {"Wh": Decimal(1), "kWh": Decimal(1000)}
W_PER_UNIT = {"W": Decimal(1), "kW": Decimal(1000)}


def energy_in_wh(value: Decimal, unit: str) -> Decimal | None:
    """An energy reading in Wh; None for a unit that is not one of energy."""
    factor = WH_PER_UNIT.get(unit or "Wh")
    return None if factor is None else value * factor


def power_in_w(value: Decimal, unit: str) -> Decimal | None:
    """A power reading in W; None for a unit that is not one of power."""
    factor = W_PER_UNIT.get(unit or "W")
    return None if factor is None else value * factor


class TransactionStatus(models.TextChoices):
    ACTIVE = "Active"
    ENDED = "Ended"


class Transaction(models.Model):
    """A charging session, whichever OCPP version reported it."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.PROTECT, related_name="transactions"
    )
    ocpp_transaction_id = models.CharField(
        max_length=36,
        blank=True,
        help_text="The id OCPP uses: assigned by the CSMS in 1.6, by the charger in 2.0.1.",
    )
    ocpp_version = models.CharField(max_length=8, choices=OcppVersion.choices)
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=TransactionStatus.choices, default=TransactionStatus.ACTIVE
    )

    id_token = models.ForeignKey(
        "idtokens.IdToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transactions",
    )
    id_token_value = models.CharField(
        max_length=255, blank=True, help_text="As presented, kept even for unknown tokens."
    )
    authorization_status = models.CharField(
        max_length=16, blank=True, help_text="What the CSMS answered when the session started."
    )
    stop_id_token_value = models.CharField(max_length=255, blank=True)
    reservation_id = models.IntegerField(null=True, blank=True)

    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=32, blank=True)
    meter_start_wh = models.DecimalField(max_digits=20, decimal_places=3, null=True, blank=True)
    meter_stop_wh = models.DecimalField(max_digits=20, decimal_places=3, null=True, blank=True)
    meter_last_wh = models.DecimalField(
        max_digits=20,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Latest energy register reading, while the session runs and after.",
    )
    meter_last_at = models.DateTimeField(null=True, blank=True)
    # Bidirectional (V2X) sessions: what flowed back, and the power each way.
    export_start_wh = models.DecimalField(
        max_digits=20,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Lowest export register reading of the session (Energy.Active.Export.Register).",
    )
    export_last_wh = models.DecimalField(
        max_digits=20,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Latest export register reading.",
    )
    power_import_w = models.DecimalField(
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Latest power drawn from the grid (Power.Active.Import).",
    )
    power_export_w = models.DecimalField(
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Latest power given back to the grid (Power.Active.Export).",
    )
    flow_last_at = models.DateTimeField(
        null=True, blank=True, help_text="When the export register or power was last read."
    )
    operation_mode = models.CharField(
        max_length=24,
        blank=True,
        help_text="OCPP 2.1: the V2X operation mode the charger reports (ChargingOnly, "
        "CentralSetpoint, Idle …).",
    )

    # OCPP 2.0.1 reports these with each TransactionEvent.
    charging_state = models.CharField(max_length=16, blank=True)
    remote_start_id = models.IntegerField(null=True, blank=True)
    last_seq_no = models.PositiveIntegerField(
        null=True, blank=True, help_text="Highest TransactionEvent seqNo applied (2.0.1)."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "ocpp_transaction_id"],
                condition=~Q(ocpp_transaction_id=""),
                name="transaction_unique_ocpp_id_per_cp",
            )
        ]
        indexes = [
            models.Index(fields=["charge_point", "-started_at"]),
            models.Index(fields=["id_token_value", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} #{self.ocpp_transaction_id or self.pk}"

    @property
    def energy_wh(self):
        """Energy delivered so far (or in all, once ended), in Wh."""
        end = self.meter_stop_wh if self.meter_stop_wh is not None else self.meter_last_wh
        if end is None or self.meter_start_wh is None:
            return None
        return end - self.meter_start_wh

    @property
    def energy_exported_wh(self):
        """Energy the EV gave back so far (V2X), in Wh; None if never reported."""
        if self.export_last_wh is None or self.export_start_wh is None:
            return None
        return self.export_last_wh - self.export_start_wh


class TransactionEvent(models.Model):
    """Every OCPP 2.0.1 TransactionEvent of a session, once per seqNo: a resent
    event (after a reconnect) is recognised and not applied twice."""

    # Indexed by the unique constraint's (transaction, seq_no), whose first
    # column serves look-ups by session: a second index would be written on
    # every event and read by none.
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    seq_no = models.PositiveIntegerField()
    event_type = models.CharField(max_length=16)
    trigger_reason = models.CharField(max_length=32)
    timestamp = models.DateTimeField()
    offline = models.BooleanField(default=False)
    charging_state = models.CharField(max_length=16, blank=True)
    stopped_reason = models.CharField(max_length=32, blank=True)
    id_token_value = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["transaction_id", "seq_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "seq_no"], name="transactionevent_unique_seq_no"
            )
        ]

    def __str__(self) -> str:
        return f"{self.transaction_id} #{self.seq_no} {self.event_type}"


class MeterValue(models.Model):
    """One sampled value of a meter reading (OCPP SampledValue), with the
    defaults the spec gives filled in, so that queries need not know them."""

    # Indexed by Meta.indexes, (charger or session, timestamp), not each
    # alone: the single-column indexes were written on every sample, and a
    # prepared statement's plan could probe the charger's (every sample it
    # ever sent) rather than the (charger, timestamp) one.
    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="meter_values", db_index=False
    )
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="meter_values",
        db_index=False,
    )
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField()
    measurand = models.CharField(max_length=64, default=ENERGY_REGISTER)
    phase = models.CharField(max_length=8, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    context = models.CharField(max_length=32, blank=True)
    location = models.CharField(max_length=16, blank=True)
    format = models.CharField(max_length=16, blank=True)
    value = models.TextField(help_text="As reported (signed data is kept whole).")
    signed_meter_value = models.JSONField(
        null=True,
        blank=True,
        help_text="OCPP 2.0.1 signedMeterValue: signed data, signing and encoding method, key.",
    )
    numeric_value = models.DecimalField(
        max_digits=24, decimal_places=6, null=True, blank=True, help_text="Null for signed data."
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["transaction", "timestamp"]),
            models.Index(fields=["charge_point", "timestamp"]),
        ]

    def __str__(self) -> str:
        return f"{self.measurand}={self.value}{self.unit}"
