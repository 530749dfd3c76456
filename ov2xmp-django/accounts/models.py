from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from accounts.roles import Role
from core.validators import CURRENCY

# RFC 5646 language tags as OCPP and browsers use them: en, nl-BE, pt-PT.
LANGUAGE_TAG = RegexValidator(
    r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", "A language tag such as en, nl or pt-PT."
)


class User(AbstractUser):
    """The platform's user: staff with a role, or an EV driver (role ``driver``)
    with a profile, tokens and vehicles."""

    role = models.CharField(
        max_length=32,
        choices=Role.choices,
        blank=True,
        help_text="What the user may see and do (docs/roles.md). Empty: only the "
        "permissions given to the user or their groups.",
    )
    vendor_name = models.CharField(
        max_length=50,
        blank=True,
        help_text="For the charge point vendor role: the chargers whose BootNotification "
        "vendor is this name (case-insensitive) are the ones the user sees.",
    )
    phone = models.CharField(max_length=32, blank=True)
    language = models.CharField(
        max_length=16,
        blank=True,
        validators=[LANGUAGE_TAG],
        help_text="Preferred language (RFC 5646), e.g. en or pt-PT.",
    )

    prepaid_currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[CURRENCY],
        help_text="A driver with a prepaid balance in this currency: their CDRs in it are "
        "debited from it. Empty: no prepaid balance.",
    )

    class Meta:
        db_table = "accounts_user"
        permissions = [("assign_roles", "Can give users any role")]


class Vehicle(models.Model):
    """An EV and the driver it belongs to. The EVCC id (the vehicle's
    identifier in ISO 15118, reported by OCPP 2.0.1 chargers) links sessions to
    the vehicle."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vehicles"
    )
    name = models.CharField(max_length=100, help_text="What the driver calls it.")
    make = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    license_plate = models.CharField(max_length=20, blank=True)
    evcc_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="The EV communication controller's id (ISO 15118 EVCCID), if known.",
    )
    battery_capacity_kwh = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True
    )
    charging_priority = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-9), MaxValueValidator(9)],
        help_text="-9 (lowest) to 9 (highest) in a load group, before its token's; "
        "applies to sessions whose token is this EVCC id (Autocharge).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evcc_id"],
                condition=~models.Q(evcc_id=""),
                name="accounts_vehicle_unique_evcc_id",
            )
        ]

    def __str__(self) -> str:
        return self.name
