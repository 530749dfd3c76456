from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class IdTokenType(models.TextChoices):
    CENTRAL = "Central"
    EMAID = "eMAID"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    NO_AUTHORIZATION = "NoAuthorization"


class IdTokenStatus(models.TextChoices):
    """The status an operator gives a token. ``ConcurrentTx`` is never stored:
    it is derived from the token's running transactions at authorization time."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


class MessageFormat(models.TextChoices):
    ASCII = "ASCII"
    HTML = "HTML"
    URI = "URI"
    UTF8 = "UTF8"


class IdToken(models.Model):
    """An identifier a driver presents (RFID card, app token, key code …).

    An OCPP 1.6 ``idTag`` is looked up by value alone; OCPP 2.0.1 adds the type.
    """

    value = models.CharField(max_length=255)
    type = models.CharField(
        max_length=16, choices=IdTokenType.choices, default=IdTokenType.ISO14443
    )
    status = models.CharField(
        max_length=16, choices=IdTokenStatus.choices, default=IdTokenStatus.ACCEPTED
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        help_text="Group token (OCPP parentIdTag / groupIdToken).",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="id_tokens",
    )
    allow_concurrent_transactions = models.BooleanField(
        default=False,
        help_text="When false, a second transaction while one runs is answered ConcurrentTx.",
    )
    # OCPP 2.0.1 idTokenInfo: how the charger should address the driver, and
    # whose session comes first when power is short.
    language = models.CharField(
        max_length=8, blank=True, help_text="Preferred language (RFC 5646), e.g. nl or en-GB."
    )
    second_language = models.CharField(max_length=8, blank=True)
    personal_message = models.CharField(
        max_length=512, blank=True, help_text="Shown to the driver when the token is presented."
    )
    personal_message_format = models.CharField(
        max_length=8, choices=MessageFormat.choices, default=MessageFormat.UTF8
    )
    personal_message_language = models.CharField(max_length=8, blank=True)
    charging_priority = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-9), MaxValueValidator(9)],
        help_text="-9 (lowest) to 9 (highest); empty means 0.",
    )
    may_discharge = models.BooleanField(
        default=True,
        help_text="V2X (OCPP 2.1): the EV may give energy back in this token's sessions. "
        "If not, Authorize allows only charging, and the platform sends no discharging.",
    )
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["value", "type"]
        constraints = [
            models.UniqueConstraint(fields=["value", "type"], name="idtoken_unique_value_type")
        ]

    def __str__(self) -> str:
        return f"{self.value} ({self.type})"


class LocalListUpdateType(models.TextChoices):
    FULL = "Full"
    DIFFERENTIAL = "Differential"


class LocalListUpdateStatus(models.TextChoices):
    PENDING = "Pending", "Sent, not answered yet"
    # The charger's answers (UpdateStatus of 1.6, SendLocalListStatus of 2.0.1).
    ACCEPTED = "Accepted"
    FAILED = "Failed"
    NOT_SUPPORTED = "NotSupported"
    VERSION_MISMATCH = "VersionMismatch"
    # The command got no answer (not connected, timed out, CallError).
    NOT_ANSWERED = "NotAnswered", "Not answered (see the command)"


class LocalListUpdate(models.Model):
    """One SendLocalList the platform sent a charger: the version, what it
    carried, the whole list the charger holds once it accepts it, and the
    answer. The newest Accepted one of a charger is what its list holds."""

    charge_point = models.ForeignKey(
        "chargepoints.ChargePoint", on_delete=models.CASCADE, related_name="local_list_updates"
    )
    version_number = models.IntegerField()
    update_type = models.CharField(max_length=16, choices=LocalListUpdateType.choices)
    entries = models.JSONField(
        default=list,
        help_text="What was sent: one entry per token (value, type, status, expires_at, "
        "group_value, group_type); a Differential removal has status null.",
    )
    full_list = models.JSONField(
        default=list, help_text="The whole list the charger holds once it accepts this update."
    )
    status = models.CharField(
        max_length=16, choices=LocalListUpdateStatus.choices, default=LocalListUpdateStatus.PENDING
    )
    status_at = models.DateTimeField()
    recovers = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recovered_by",
        help_text="The Differential update answered VersionMismatch that this Full one repairs.",
    )
    command = models.OneToOneField(
        "commands.Command",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="local_list_update",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "status", "version_number"])]

    def __str__(self) -> str:
        return (
            f"{self.charge_point_id} local list v{self.version_number} "
            f"{self.update_type}: {self.status}"
        )
