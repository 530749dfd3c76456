"""The roles of the platform and what each may see and do.

A role is a set of Django permissions, given by ``accounts.backends.RoleBackend``
to every active user holding it; the API, the live feed, the exports and the
dashboard all ask ``user.has_perm`` and never the role itself. Two roles see
only part of the data as well (``accounts.scoping``): a charge point vendor its
own chargers, a driver their own tokens, vehicles, sessions and CDRs.

docs/roles.md is the same table for people; a test keeps the two the same.
"""

from __future__ import annotations

import functools

from django.db import models


class Role(models.TextChoices):
    PLATFORM_MANAGER = "platform_manager", "Platform manager"
    CPO_MANAGER = "cpo_manager", "CPO manager"
    BILLING_RULE_MANAGER = "billing_rule_manager", "Billing-rule manager"
    EMSP_MANAGER = "emsp_manager", "eMSP manager"
    FIRST_LINE_SUPPORT = "first_line_support", "1st-line support"
    SECOND_LINE_SUPPORT = "second_line_support", "2nd-line support"
    CHARGE_POINT_VENDOR = "charge_point_vendor", "Charge point vendor"
    CDR_MANAGER = "cdr_manager", "CDR manager"
    CMS_MANAGER = "cms_manager", "CMS (content) manager"
    DRIVER = "driver", "EV driver"


# Every OCPP command belongs to one category; sending it needs the permission
# ``commands.send_<category>``.
COMMAND_CATEGORIES: dict[str, str] = {
    "inspect": "read the charger's state: configuration, variables, reports, lists",
    "operate": "reset, unlock, change availability, trigger messages, clear the cache",
    "sessions": "start and stop sessions remotely, reserve",
    "configure": "change configuration, variables, monitoring, network profiles",
    "diagnose": "ask for diagnostics and logs",
    "firmware": "update and publish firmware",
    "security": "certificates and customer data",
    "smart_charging": "set and clear charging profiles, V2X and DER controls",
    "messages": "the messages chargers display to drivers",
    "billing": "send the running cost and tariffs to the charger",
}

_CATEGORY_ACTIONS: dict[str, tuple[str, ...]] = {
    "inspect": (
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDERControl",
        "GetPeriodicEventStream",
        "GetTariffs",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetMonitoringReport",
        "GetReport",
        "GetTransactionStatus",
        "GetVariables",
    ),
    "operate": (
        "ChangeAvailability",
        "ClearCache",
        "ExtendedTriggerMessage",
        "Reset",
        "TriggerMessage",
        "UnlockConnector",
    ),
    "sessions": (
        "CancelReservation",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "RequestBatterySwap",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ReserveNow",
    ),
    "configure": (
        "AdjustPeriodicEventStream",
        "ChangeConfiguration",
        "ClearVariableMonitoring",
        "DataTransfer",
        "SendLocalList",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetNetworkProfile",
        "SetVariableMonitoring",
        "SetVariables",
    ),
    "diagnose": ("GetDiagnostics", "GetLog"),
    "firmware": ("PublishFirmware", "SignedUpdateFirmware", "UnpublishFirmware", "UpdateFirmware"),
    "security": (
        "CertificateSigned",
        "CustomerInformation",
        "DeleteCertificate",
        "InstallCertificate",
    ),
    "smart_charging": (
        "AFRRSignal",
        "ClearChargingProfile",
        "ClearDERControl",
        "NotifyAllowedEnergyTransfer",
        "SetChargingProfile",
        "SetDERControl",
        "UpdateDynamicSchedule",
        "UsePriorityCharging",
    ),
    "messages": ("ClearDisplayMessage", "GetDisplayMessages", "SetDisplayMessage"),
    "billing": ("ChangeTransactionTariff", "ClearTariffs", "CostUpdated", "SetDefaultTariff"),
}

ACTION_CATEGORIES: dict[str, str] = {
    action: category for category, actions in _CATEGORY_ACTIONS.items() for action in actions
}


def send_permission(action: str) -> str:
    """The permission that sending ``action`` (either OCPP version) needs."""
    return f"commands.send_{ACTION_CATEGORIES[action]}"


def _perms(actions: str, *models: str) -> set[str]:
    """``_perms("view add", "billing.tariff")`` → {"billing.view_tariff", "billing.add_tariff"}."""
    result = set()
    for label in models:
        app, model = label.split(".")
        result |= {f"{app}.{action}_{model}" for action in actions.split()}
    return result


def _send(*categories: str) -> set[str]:
    return {f"commands.send_{category}" for category in categories}


ALL = "view add change delete"

# What support sees of chargers: their state, not their settings.
_CHARGER_STATE = (
    "chargepoints.chargepoint",
    "chargepoints.connector",
    "chargepoints.statusnotification",
    "chargepoints.chargerevent",
    "chargepoints.displaymessage",
    "locations.location",
)
_CHARGER_SETTINGS = (
    "chargepoints.configurationkey",
    "chargepoints.devicemodelvariable",
    "chargepoints.chargerreport",
    "chargepoints.variablemonitor",
)
_SESSIONS = ("transactions.transaction", "transactions.metervalue", "reservations.reservation")
_SMART_CHARGING = (
    "smartcharging.chargingprofile",
    "smartcharging.loadgroup",
    "smartcharging.gridsignal",
    "smartcharging.chargingneeds",
    "smartcharging.evchargingschedule",
    "smartcharging.charginglimit",
    "smartcharging.reportedchargingprofile",
    "smartcharging.derevent",
)
_SECURITY = (
    "chargepoints.securityevent",
    "certificates.certificatesigningrequest",
    "certificates.issuedcertificate",
    "certificates.certificatestatusrequest",
    "certificates.evcertificaterequest",
)
_FILES = ("files.filerequest", "files.storedfile", "files.firmwareimage", "files.firmwareupdate")
_TARIFFS = ("billing.tariff", "billing.tariffversion")

# What a local authorization list update is: the tokens a charger holds.
_LOCAL_LISTS = ("idtokens.locallistupdate",)

_FIRST_LINE = (
    _perms("view", *_CHARGER_STATE, *_SESSIONS, "commands.command", "idtokens.idtoken")
    | _perms("view", *_LOCAL_LISTS)
    # Reserving and cancelling send ReserveNow / CancelReservation (send_sessions).
    | _perms("add change", "reservations.reservation")
    | _send("inspect", "operate", "sessions")
)
_SECOND_LINE = (
    _FIRST_LINE
    | _perms("view", *_CHARGER_SETTINGS, *_SMART_CHARGING, *_SECURITY, *_FILES)
    | _perms("view", "ocpp_messages.ocppmessage")
    | _perms("add", "files.filerequest", "files.firmwareupdate", *_LOCAL_LISTS)
    | _perms("add change delete", "smartcharging.chargingprofile")
    | _send("configure", "diagnose", "firmware", "smart_charging", "messages")
)

_ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.PLATFORM_MANAGER: {"*"},
    Role.CPO_MANAGER: (
        _perms(ALL, "chargepoints.chargepoint", "chargepoints.evse", "chargepoints.connector")
        | _perms(ALL, "locations.location")
        | _perms(
            "view", *_CHARGER_STATE, *_CHARGER_SETTINGS, *_SESSIONS, *_SMART_CHARGING, *_SECURITY
        )
        | _perms("view change", "certificates.issuedcertificate")
        | _perms("add change", "reservations.reservation")
        | _perms("view add", *_LOCAL_LISTS)
        | _perms(ALL, *_FILES, "smartcharging.chargingprofile", "smartcharging.loadgroup")
        | _perms("view add", "smartcharging.gridsignal")
        | _perms("view", "ocpp_messages.ocppmessage", "commands.command", "idtokens.idtoken")
        | _perms("view", *_TARIFFS, "billing.cdr")
        | _send(*COMMAND_CATEGORIES)
    ),
    Role.BILLING_RULE_MANAGER: (
        _perms(ALL, *_TARIFFS)
        | _perms("view", "chargepoints.chargepoint", "chargepoints.connector")
        | _perms("view", "locations.location", "transactions.transaction", "billing.cdr")
    ),
    Role.EMSP_MANAGER: (
        _perms(ALL, "idtokens.idtoken", "accounts.vehicle")
        | _perms("view add", "billing.prepaidentry")
        | _perms("view add change", "accounts.user")
        | _perms("view", *_TARIFFS, "billing.cdr", "transactions.transaction")
        | _perms("view", "chargepoints.chargepoint", "chargepoints.connector")
        | _perms("view", "locations.location")
    ),
    Role.FIRST_LINE_SUPPORT: _FIRST_LINE,
    Role.SECOND_LINE_SUPPORT: _SECOND_LINE,
    Role.CHARGE_POINT_VENDOR: (
        _perms("view", "chargepoints.chargepoint", "chargepoints.connector")
        | _perms("view", "chargepoints.statusnotification", "chargepoints.chargerevent")
        | _perms("view", *_CHARGER_SETTINGS, *_FILES)
        | _perms("view", "chargepoints.securityevent", "ocpp_messages.ocppmessage")
        | _perms("view", "commands.command")
        | _perms("add", "files.filerequest", "files.firmwareimage", "files.firmwareupdate")
        | _send("inspect", "operate", "diagnose", "firmware")
    ),
    Role.CDR_MANAGER: (
        _perms("view", "billing.cdr", *_TARIFFS, "transactions.transaction")
        | _perms("view", "transactions.metervalue", "billing.prepaidentry")
        | _perms("view", "chargepoints.chargepoint", "locations.location")
        | {"billing.recompute_cdr"}
    ),
    Role.CMS_MANAGER: (
        _perms(ALL, "locations.location")
        | _perms("view change", "chargepoints.chargepoint", "chargepoints.connector")
        | _perms("view", "chargepoints.displaymessage", "commands.command")
        | _send("messages")
    ),
    Role.DRIVER: (
        _perms("view", "idtokens.idtoken", "transactions.transaction", "transactions.metervalue")
        | _perms("view", "billing.cdr", "billing.prepaidentry")
        | _perms(ALL, "accounts.vehicle")
    ),
}

# Roles that see part of the data only (accounts.scoping).
CHARGER_SCOPED_ROLES = frozenset({Role.CHARGE_POINT_VENDOR})
OWNER_SCOPED_ROLES = frozenset({Role.DRIVER})


@functools.cache
def all_permissions() -> frozenset[str]:
    """Every permission of the installed models, as ``app_label.codename``."""
    from django.apps import apps

    permissions = set()
    for model in apps.get_models():
        meta = model._meta
        permissions |= {f"{meta.app_label}.{a}_{meta.model_name}" for a in meta.default_permissions}
        permissions |= {f"{meta.app_label}.{codename}" for codename, _ in meta.permissions}
    return frozenset(permissions)


@functools.cache
def role_permissions(role: str) -> frozenset[str]:
    granted = _ROLE_PERMISSIONS.get(role, set())
    return all_permissions() if "*" in granted else frozenset(granted)


ROLE_COLUMNS = {
    Role.PLATFORM_MANAGER: "Platform",
    Role.CPO_MANAGER: "CPO",
    Role.BILLING_RULE_MANAGER: "Billing rules",
    Role.EMSP_MANAGER: "eMSP",
    Role.FIRST_LINE_SUPPORT: "1st line",
    Role.SECOND_LINE_SUPPORT: "2nd line",
    Role.CHARGE_POINT_VENDOR: "Vendor",
    Role.CDR_MANAGER: "CDR",
    Role.CMS_MANAGER: "CMS",
    Role.DRIVER: "Driver",
}


def permission_matrix() -> str:
    """The roles' permissions as a Markdown table: per model, v(iew) a(dd)
    c(hange) d(elete); per command category and special permission, ✓."""
    from django.apps import apps

    granted = [role_permissions(role) for role in ROLE_COLUMNS]
    rows: list[tuple[str, dict[str, str]]] = []  # label, {letter: permission}
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label_lower):
        meta = model._meta
        if meta.app_label not in ("admin", "auth", "contenttypes", "sessions"):
            label = f"{meta.verbose_name_plural} (`{meta.label_lower}`)"
            perms = {a[0]: f"{meta.app_label}.{a}_{meta.model_name}" for a in ALL.split()}
            rows.append((label, perms))
    rows += [(f"send: {c}", {"✓": f"commands.send_{c}"}) for c in COMMAND_CATEGORIES]
    rows += [(f"`{p}`", {"✓": p}) for p in ("billing.recompute_cdr", "accounts.assign_roles")]
    lines = [
        "| | " + " | ".join(ROLE_COLUMNS.values()) + " |",
        "|---" * (len(ROLE_COLUMNS) + 1) + "|",
    ]
    for label, letters in rows:
        cells = ["".join(m for m, perm in letters.items() if perm in g) for g in granted]
        if any(cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
