import uuid

from django.conf import settings
from django.db import models

from accounts.roles import COMMAND_CATEGORIES


class CommandStatus(models.TextChoices):
    QUEUED = "Queued", "Queued: on its way to the charger"
    HELD = "Held", "Held until the charger reconnects"
    SENT = "Sent", "Sent: waiting for the charger's answer"
    ANSWERED = "Answered", "Answered by the charger"
    CALL_ERROR = "CallError", "The charger answered with a CallError"
    TIMED_OUT = "TimedOut", "No answer in time"
    NOT_CONNECTED = "NotConnected", "The charger was not connected"
    EXPIRED = "Expired", "Held, but the charger did not reconnect in time"
    CANCELLED = "Cancelled", "Cancelled before it was sent"
    FAILED = "Failed", "Failed (see the error description)"


# A command in one of these may still be sent; once Sent it never is again.
UNSENT_STATUSES = (CommandStatus.QUEUED, CommandStatus.HELD)


class Command(models.Model):
    """One CSMS-initiated OCPP call and its outcome. The id is the call's OCPP
    message id, so the message log shows the frames of each command."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    charge_point = models.ForeignKey(
        "chargepoints.ChargePoint", on_delete=models.CASCADE, related_name="commands"
    )
    ocpp_version = models.CharField(max_length=8)
    action = models.CharField(max_length=64)
    request = models.JSONField(help_text="The OCPP request payload, as sent.")
    status = models.CharField(
        max_length=16, choices=CommandStatus.choices, default=CommandStatus.QUEUED
    )
    response = models.JSONField(
        null=True, blank=True, help_text="The charger's answer payload, as received."
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_description = models.TextField(blank=True)
    hold_until = models.DateTimeField(
        null=True, blank=True, help_text="Held for an offline charger until then."
    )
    request_id = models.IntegerField(
        null=True,
        blank=True,
        help_text="The request's requestId or remoteStartId, which later messages of "
        "the charger refer to.",
    )
    transaction = models.ForeignKey(
        "transactions.Transaction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commands",
        help_text="The session this command started.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            (f"send_{category}", f"Can send commands that {what}")
            for category, what in COMMAND_CATEGORIES.items()
        ]
        indexes = [
            models.Index(fields=["charge_point", "status", "created_at"]),
            models.Index(fields=["charge_point", "action", "request_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} → {self.charge_point_id} ({self.status})"
