"""Tariffs (versioned) and the CDRs that price finished sessions with them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.validators import CURRENCY


class Current(models.TextChoices):
    ANY = "", "AC and DC"
    AC = "AC"
    DC = "DC"


def money(**options: Any) -> models.DecimalField:
    """An amount of money: to the cent, up to ten digits before it."""
    return models.DecimalField(max_digits=12, decimal_places=2, **options)


class TariffKind(models.TextChoices):
    CPO = "cpo", "CPO (wholesale): what the charging costs"
    EMSP = "emsp", "eMSP (retail): what the driver pays"


class Tariff(models.Model):
    """What a session costs where it applies: one charger, a location (for
    its AC or DC connectors, or all), or everywhere else (neither set). The
    terms live in versions; a session is priced with the version in force
    when it started.

    A CPO tariff prices the charging (the CDR's cost). An eMSP tariff prices
    it for the driver (the CDR's retail price): on top of the CPO's cost, or
    instead of it (a flat subscription); for one driver, or for all."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=4, choices=TariffKind.choices, default=TariffKind.CPO)
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tariffs",
        help_text="eMSP tariffs only: the driver it is for (empty: every driver).",
    )
    includes_cpo_cost = models.BooleanField(
        default=True,
        help_text="eMSP tariffs only: the driver pays the CPO's cost plus this tariff's "
        "price. False: this tariff's price alone (a flat subscription).",
    )
    currency = models.CharField(max_length=3, validators=[CURRENCY])
    vat_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="VAT added to the prices, which exclude it.",
    )
    charge_point = models.ForeignKey(
        "chargepoints.ChargePoint", on_delete=models.CASCADE, null=True, blank=True
    )
    evse_id = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="With charge_point: only this EVSE (1.6: connector). Empty: all of them.",
    )
    location = models.ForeignKey(
        "locations.Location", on_delete=models.CASCADE, null=True, blank=True
    )
    current = models.CharField(max_length=2, choices=Current.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(charge_point__isnull=True) | Q(location__isnull=True),
                name="tariff_for_a_charger_or_a_location",
            ),
            models.CheckConstraint(
                condition=Q(evse_id__isnull=True) | Q(charge_point__isnull=False),
                name="tariff_evse_of_its_charger",
            ),
            models.CheckConstraint(
                condition=Q(kind=TariffKind.EMSP) | Q(driver__isnull=True, includes_cpo_cost=True),
                name="tariff_driver_and_subscription_for_emsp_only",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TariffVersion(models.Model):
    """The tariff's terms from ``valid_from`` on: OCPI-shaped elements
    (billing/elements.py). Never changed once a CDR uses it."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="versions")
    valid_from = models.DateTimeField()
    elements = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tariff_id", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "valid_from"], name="tariff_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tariff} from {self.valid_from:%Y-%m-%d %H:%M}"


class Cdr(models.Model):
    """A charge detail record: a finished session, priced. Recomputing one
    keeps the earlier records, no longer current."""

    transaction = models.ForeignKey(
        "transactions.Transaction", on_delete=models.PROTECT, related_name="cdrs"
    )
    tariff_version = models.ForeignKey(
        TariffVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="cdrs"
    )
    charge_point_id = models.CharField(max_length=48)
    id_token_value = models.CharField(max_length=255, blank=True)
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cdrs",
        help_text="The owner of the session's id token when the CDR was made.",
    )
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    currency = models.CharField(max_length=3, blank=True)
    energy_wh = models.DecimalField(max_digits=20, decimal_places=3)
    charging_seconds = models.DecimalField(max_digits=12, decimal_places=3)
    parking_seconds = models.DecimalField(max_digits=12, decimal_places=3)
    cost_energy = money(default=0)
    cost_flat = money(default=0)
    cost_time = money(default=0)
    cost_parking_time = money(default=0)
    total_excl_vat = money(default=0)
    vat = money(default=0)
    total_incl_vat = money(default=0)
    # What the driver pays, when an eMSP tariff applies (else null: the cost).
    emsp_tariff_version = models.ForeignKey(
        TariffVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="retail_cdrs",
    )
    retail_currency = models.CharField(max_length=3, blank=True)
    retail_cost_energy = money(null=True)
    retail_cost_flat = money(null=True)
    retail_cost_time = money(null=True)
    retail_cost_parking_time = money(null=True)
    retail_total_excl_vat = money(null=True)
    retail_vat = money(null=True)
    retail_total_incl_vat = money(null=True)
    is_current = models.BooleanField(default=True)
    reason = models.CharField(max_length=100, help_text="Why it was made (session ended, …).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("recompute_cdr", "Can recompute a CDR")]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction"],
                condition=Q(is_current=True),
                name="cdr_one_current_per_transaction",
            )
        ]

    def __str__(self) -> str:
        return f"CDR {self.pk} of {self.transaction_id}"

    @property
    def driver_price(self) -> tuple[Decimal, str]:
        """What the driver pays, including VAT, and its currency: the retail
        price under an eMSP tariff, else the cost."""
        if self.retail_total_incl_vat is not None:
            return self.retail_total_incl_vat, self.retail_currency
        return self.total_incl_vat, self.currency


class PrepaidEntry(models.Model):
    """One movement of a driver's prepaid balance: a top-up or a correction
    (positive or negative), a CDR's price (negative), or the reversal of a
    CDR's price when it is recomputed. The balance is their sum; entries are
    never changed, so the balance has a history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prepaid_entries"
    )
    amount = money()
    currency = models.CharField(max_length=3, validators=[CURRENCY])
    cdr = models.ForeignKey(
        Cdr, on_delete=models.PROTECT, null=True, blank=True, related_name="prepaid_entries"
    )
    description = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who entered a top-up or correction (none for CDR debits).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "prepaid entries"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} for {self.user_id}: {self.description}"
