"""What part of the data a user sees: all of it, except for two roles.

* A charge point vendor sees the chargers whose BootNotification vendor is
  their ``vendor_name``, and what belongs to those chargers.
* A driver sees what is theirs: their tokens, vehicles, the sessions of their
  tokens, their CDRs and prepaid balance, themselves.

Every model the API, the feed, the exports or the dashboard read is listed in
``SCOPES`` with its path to a charger, to an owner, or both; a scoped user
reading a model without the path of their kind sees nothing. The REST API
applies it as the first filter backend (lists, and details: 404 outside the
scope); writes that name a charger look it up through ``charger_in_scope``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from accounts.roles import CHARGER_SCOPED_ROLES, OWNER_SCOPED_ROLES

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Scope:
    # The lookup from the model to its charger's id, e.g. "charge_point_id".
    charger: str | None = None
    # The lookup from the model to the user it belongs to, e.g. "id_token__owner".
    owner: str | None = None


SCOPES: dict[str, Scope] = {
    "accounts.user": Scope(owner="pk"),
    "accounts.vehicle": Scope(owner="owner"),
    "idtokens.idtoken": Scope(owner="owner"),
    "idtokens.locallistupdate": Scope(charger="charge_point_id"),
    "chargepoints.chargepoint": Scope(charger="id"),
    "chargepoints.evse": Scope(charger="charge_point_id"),
    "chargepoints.connector": Scope(charger="evse__charge_point_id"),
    "chargepoints.statusnotification": Scope(charger="charge_point_id"),
    "chargepoints.securityevent": Scope(charger="charge_point_id"),
    "chargepoints.chargerreport": Scope(charger="charge_point_id"),
    "chargepoints.configurationkey": Scope(charger="charge_point_id"),
    "chargepoints.devicemodelvariable": Scope(charger="charge_point_id"),
    "chargepoints.chargerevent": Scope(charger="charge_point_id"),
    "chargepoints.variablemonitor": Scope(charger="charge_point_id"),
    "chargepoints.displaymessage": Scope(charger="charge_point_id"),
    "transactions.transaction": Scope(charger="charge_point_id", owner="id_token__owner"),
    "transactions.transactionevent": Scope(
        charger="transaction__charge_point_id", owner="transaction__id_token__owner"
    ),
    "transactions.metervalue": Scope(
        charger="charge_point_id", owner="transaction__id_token__owner"
    ),
    "reservations.reservation": Scope(charger="charge_point_id"),
    "smartcharging.chargingneeds": Scope(charger="charge_point_id"),
    "smartcharging.evchargingschedule": Scope(charger="charge_point_id"),
    "smartcharging.charginglimit": Scope(charger="charge_point_id"),
    "smartcharging.derevent": Scope(charger="charge_point_id"),
    "smartcharging.reportedchargingprofile": Scope(charger="charge_point_id"),
    "smartcharging.chargingprofile": Scope(charger="charge_point_id"),
    # A site: seen whole by the roles that see it at all; no scoped role does.
    "smartcharging.loadgroup": Scope(),
    "smartcharging.gridsignal": Scope(),
    "certificates.certificatesigningrequest": Scope(charger="charge_point_id"),
    "certificates.issuedcertificate": Scope(charger="charge_point_id"),
    "certificates.certificatestatusrequest": Scope(charger="charge_point_id"),
    "certificates.evcertificaterequest": Scope(charger="charge_point_id"),
    "commands.command": Scope(charger="charge_point_id"),
    "files.storedfile": Scope(charger="charge_point_id"),
    "files.filerequest": Scope(charger="charge_point_id"),
    "files.firmwareimage": Scope(owner="created_by"),
    "files.firmwareupdate": Scope(charger="charge_point_id"),
    "ocpp_messages.ocppmessage": Scope(charger="charge_point_id"),
    "billing.cdr": Scope(charger="charge_point_id", owner="driver"),
    "billing.prepaidentry": Scope(owner="user"),
    # Seen whole by the roles that see them at all; no scoped role does.
    "locations.location": Scope(),
    "billing.tariff": Scope(),
    "billing.tariffversion": Scope(),
}


def is_scoped(user: Any) -> bool:
    role = getattr(user, "role", "")
    return not user.is_superuser and (role in CHARGER_SCOPED_ROLES or role in OWNER_SCOPED_ROLES)


def vendor_charger_ids(user: Any) -> QuerySet:
    from chargepoints.models import ChargePoint

    if not user.vendor_name:
        return ChargePoint.objects.none().values("id")
    return ChargePoint.objects.filter(vendor__iexact=user.vendor_name).values("id")


def scope_queryset(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """``queryset`` narrowed to what ``user`` may see (unchanged for
    unscoped users; empty for a model with no path of the user's kind)."""
    if not user.is_authenticated:
        return queryset.none()
    if not is_scoped(user):
        return queryset
    scope = SCOPES.get(queryset.model._meta.label_lower, Scope())
    if user.role in CHARGER_SCOPED_ROLES and scope.charger:
        return queryset.filter(**{f"{scope.charger}__in": vendor_charger_ids(user)})
    # A driver's own things; a vendor's own uploads (firmware) and account.
    if scope.owner:
        return queryset.filter(**{scope.owner: user})
    return queryset.none()


def charger_in_scope(user: Any, charge_point_id: str) -> Any:
    """The charger with this id if ``user`` may see it, else ``None``: a
    charger outside the scope answers like an unknown one."""
    from chargepoints.models import ChargePoint

    return scope_queryset(ChargePoint.objects.all(), user).filter(id=charge_point_id).first()


class RoleScopeFilter(BaseFilterBackend):
    """The REST API's first filter: lists and details show only what the
    user's role may see (outside it: absent, 404)."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        return scope_queryset(queryset, request.user)
