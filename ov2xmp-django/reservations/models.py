from django.conf import settings
from django.db import models

from chargepoints.models import ChargePoint


class ReservationStatus(models.TextChoices):
    # Made through the API, ReserveNow not answered yet.
    PENDING = "Pending"
    # ReserveNow got no answer (charger not connected, timeout, CallError).
    FAILED = "Failed"
    # What the charger answered to ReserveNow.
    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"
    # How an accepted reservation ended.
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    REMOVED = "Removed"
    USED = "Used"


# The statuses of a reservation that still holds its EVSE (until expires_at).
ACTIVE_STATUSES = (ReservationStatus.ACCEPTED,)


class Reservation(models.Model):
    """An EVSE (or any EVSE of a charger) held for one id token until it
    expires, is cancelled, or starts a transaction. ``reservation_id`` is the
    id OCPP uses, unique per charger."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="reservations"
    )
    reservation_id = models.IntegerField()
    evse_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: any EVSE of the charger."
    )
    connector_type = models.CharField(max_length=20, blank=True)
    id_token_value = models.CharField(max_length=255, blank=True)
    id_token_type = models.CharField(max_length=16, blank=True)
    group_id_token_value = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ReservationStatus.choices)
    status_at = models.DateTimeField()
    transaction = models.ForeignKey(
        "transactions.Transaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reservations",
        help_text="The transaction that used the reservation.",
    )
    command = models.ForeignKey(
        "commands.Command",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The ReserveNow that made (or last replaced) the reservation.",
    )
    cancel_command = models.ForeignKey(
        "commands.Command",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The CancelReservation last sent for it.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "reservation_id"], name="reservation_unique_id_per_cp"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} reservation {self.reservation_id}: {self.status}"
