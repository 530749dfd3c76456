from django.db import models


class Direction(models.TextChoices):
    RECEIVED = "received", "charger → CSMS"
    SENT = "sent", "CSMS → charger"


class MessageType(models.IntegerChoices):
    CALL = 2, "CALL"
    CALL_RESULT = 3, "CALLRESULT"
    CALL_ERROR = 4, "CALLERROR"


# What a frame's row says of it besides who and when (the API and the live feed show these).
FRAME_FIELDS = (
    "direction",
    "message_type",
    "unique_id",
    "action",
    "payload",
    "error_code",
    "raw",
    "ocpp_version",
)


class OcppMessage(models.Model):
    """Every OCPP-J frame in and out, for audit and debugging.

    ``charge_point_id`` is plain text, not a foreign key: the log must keep
    frames of chargers that were refused, renamed or deleted.
    """

    charge_point_id = models.CharField(max_length=48)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(
        choices=MessageType.choices, null=True, blank=True, help_text="Null for unparseable frames."
    )
    unique_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    raw = models.TextField(blank=True, help_text="The frame as received, when it was not valid.")
    ocpp_version = models.CharField(max_length=8, blank=True)
    timestamp = models.DateTimeField()

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["charge_point_id", "-timestamp"]),
            models.Index(fields=["action", "-timestamp"]),
            models.Index(fields=["-timestamp"]),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.direction} {self.action or self.message_type}"
