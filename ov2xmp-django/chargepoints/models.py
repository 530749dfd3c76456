from django.core.validators import RegexValidator
from django.db import models

# OCPP 2.0.1 limits a charging station's identity to 48 characters of this set
# (identifierString); 1.6 ids that fit it are accepted the same way.
CHARGE_POINT_ID_PATTERN = r"^[A-Za-z0-9*\-_=:+|@.]{1,48}$"
charge_point_id_validator = RegexValidator(
    CHARGE_POINT_ID_PATTERN,
    "Use 1 to 48 characters of A-Z a-z 0-9 * - _ = : + | @ .",
)


class OcppVersion(models.TextChoices):
    V16 = "1.6", "OCPP 1.6J"
    V201 = "2.0.1", "OCPP 2.0.1"
    V21 = "2.1", "OCPP 2.1"


class RegistrationStatus(models.TextChoices):
    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class SecurityProfile(models.IntegerChoices):
    """How a charger proves who it is when it connects (OCPP security profiles)."""

    NONE = 0, "0: none (the charger id alone)"
    BASIC_AUTH = 1, "1: HTTP Basic authentication"
    TLS_BASIC_AUTH = 2, "2: TLS with HTTP Basic authentication"
    TLS_CLIENT_CERTIFICATE = 3, "3: TLS with a client certificate"


class ChargePoint(models.Model):
    """A charging station, identified by the id in its websocket URL."""

    id = models.CharField(primary_key=True, max_length=48, validators=[charge_point_id_validator])
    registration_status = models.CharField(
        max_length=16, choices=RegistrationStatus.choices, default=RegistrationStatus.ACCEPTED
    )
    # How it must authenticate when it connects (csms/admission.py).
    security_profile = models.PositiveSmallIntegerField(
        choices=SecurityProfile.choices, default=SecurityProfile.NONE
    )
    password_hash = models.CharField(
        max_length=128,
        blank=True,
        help_text="The HTTP Basic password (profiles 1 and 2), salted and hashed.",
    )
    password_changed_at = models.DateTimeField(null=True, blank=True)
    certificate_identity = models.CharField(
        max_length=255,
        blank=True,
        help_text="Profile 3: the common name its client certificate must carry "
        "(empty: the charger id).",
    )
    description = models.CharField(max_length=255, blank=True)
    location = models.ForeignKey(
        "locations.Location",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chargers",
    )

    # What the charger says about itself in BootNotification.
    ocpp_version = models.CharField(max_length=8, choices=OcppVersion.choices, blank=True)
    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    serial_number = models.CharField(max_length=50, blank=True)
    charge_box_serial_number = models.CharField(max_length=50, blank=True)
    firmware_version = models.CharField(max_length=50, blank=True)
    iccid = models.CharField(max_length=20, blank=True)
    imsi = models.CharField(max_length=20, blank=True)
    meter_type = models.CharField(max_length=50, blank=True)
    meter_serial_number = models.CharField(max_length=50, blank=True)
    boot_reason = models.CharField(max_length=32, blank=True)
    last_boot_at = models.DateTimeField(null=True, blank=True)

    # The websocket connection.
    is_connected = models.BooleanField(default=False)
    connection_id = models.CharField(
        max_length=32, blank=True, help_text="Identifies the live connection; empty when offline."
    )
    remote_address = models.CharField(max_length=64, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    csms_channel = models.CharField(
        max_length=100,
        blank=True,
        help_text="The channel-layer address of the csms process holding the connection.",
    )

    # Status of the charger as a whole (OCPP 1.6 connector 0).
    status = models.CharField(max_length=32, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    status_info = models.CharField(max_length=50, blank=True)
    vendor_id = models.CharField(max_length=255, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    firmware_status = models.CharField(max_length=50, blank=True)
    firmware_status_at = models.DateTimeField(null=True, blank=True)
    diagnostics_status = models.CharField(max_length=50, blank=True)
    diagnostics_status_at = models.DateTimeField(null=True, blank=True)
    # OCPP 2.0.1 local firmware publishing (the charger as a firmware cache
    # for others on its network), from PublishFirmwareStatusNotification.
    publish_firmware_status = models.CharField(max_length=32, blank=True)
    publish_firmware_status_at = models.DateTimeField(null=True, blank=True)
    publish_firmware_request_id = models.IntegerField(null=True, blank=True)
    publish_firmware_locations = models.JSONField(
        default=list, blank=True, help_text="Where the charger publishes the firmware."
    )
    local_list_version = models.IntegerField(
        null=True,
        blank=True,
        help_text="Version of the local authorization list, as last sent or reported.",
    )
    local_list_group = models.ForeignKey(
        "idtokens.IdToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Which tokens the platform puts on its local authorization list: this "
        "group token and the tokens of its group. Empty: every token of the platform.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id


class Evse(models.Model):
    """An EVSE of a charger. An OCPP 1.6 connector N is EVSE N with connector 1,
    as OCPP 2.0.1 maps it, so that 1.6 and 2.0.1 chargers share one shape."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="evses")
    evse_id = models.PositiveIntegerField()

    class Meta:
        ordering = ["charge_point_id", "evse_id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "evse_id"], name="evse_unique_per_cp")
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}/{self.evse_id}"


class ConnectorStandard(models.TextChoices):
    """OCPI 2.2.1 ConnectorType (the plug or socket)."""

    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_F = "DOMESTIC_F", "DOMESTIC_F (Schuko)"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    IEC_60309_2_SINGLE_16 = "IEC_60309_2_single_16"
    IEC_60309_2_THREE_16 = "IEC_60309_2_three_16"
    IEC_60309_2_THREE_32 = "IEC_60309_2_three_32"
    IEC_62196_T1 = "IEC_62196_T1", "IEC_62196_T1 (Type 1)"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO", "IEC_62196_T1_COMBO (CCS1)"
    IEC_62196_T2 = "IEC_62196_T2", "IEC_62196_T2 (Type 2)"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO", "IEC_62196_T2_COMBO (CCS2)"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_S = "TESLA_S"


class ConnectorFormat(models.TextChoices):
    SOCKET = "SOCKET"
    CABLE = "CABLE"


class PowerType(models.TextChoices):
    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class Connector(models.Model):
    evse = models.ForeignKey(Evse, on_delete=models.CASCADE, related_name="connectors")
    connector_id = models.PositiveIntegerField()
    # What it is (operators set these; OCPP does not report them).
    standard = models.CharField(max_length=32, choices=ConnectorStandard.choices, blank=True)
    format = models.CharField(max_length=8, choices=ConnectorFormat.choices, blank=True)
    power_type = models.CharField(max_length=16, choices=PowerType.choices, blank=True)
    max_voltage = models.PositiveIntegerField(null=True, blank=True, help_text="V")
    max_amperage = models.PositiveIntegerField(null=True, blank=True, help_text="A")
    max_electric_power = models.PositiveIntegerField(null=True, blank=True, help_text="W")
    status = models.CharField(max_length=32, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    info = models.CharField(max_length=50, blank=True)
    vendor_id = models.CharField(max_length=255, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    status_at = models.DateTimeField(
        null=True, blank=True, help_text="When the charger says the status began."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["evse__charge_point_id", "evse__evse_id", "connector_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evse", "connector_id"], name="connector_unique_per_evse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.evse}/{self.connector_id}"


class StatusNotification(models.Model):
    """Every status a charger reported, in the order it happened."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="status_notifications"
    )
    evse_id = models.PositiveIntegerField(help_text="0 for the charger as a whole.")
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=32)
    error_code = models.CharField(max_length=50, blank=True)
    info = models.CharField(max_length=50, blank=True)
    vendor_id = models.CharField(max_length=255, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    timestamp = models.DateTimeField(help_text="When the charger says the status began.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["charge_point", "-timestamp"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id}/{self.evse_id}/{self.connector_id}: {self.status}"


class SecurityEvent(models.Model):
    """A SecurityEventNotification (OCPP 2.0.1, and the 1.6 security extension)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="security_events"
    )
    type = models.CharField(max_length=50)
    timestamp = models.DateTimeField()
    tech_info = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["charge_point", "-timestamp"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id}: {self.type}"


class AddressedVariable(models.Model):
    """Where an OCPP 2.0.1 device-model variable lives: component (on the
    station, an EVSE or a connector) and variable, each with an instance."""

    component_name = models.CharField(max_length=50)
    component_instance = models.CharField(max_length=50, blank=True)
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    variable_name = models.CharField(max_length=50)
    variable_instance = models.CharField(max_length=50, blank=True)

    class Meta:
        abstract = True


class ReportKind(models.TextChoices):
    DEVICE_MODEL = "DeviceModel", "Device model (NotifyReport)"
    MONITORING = "Monitoring", "Monitors (NotifyMonitoringReport)"
    CUSTOMER_INFORMATION = "CustomerInformation", "Customer information"


class ChargerReport(models.Model):
    """A multi-part report an OCPP 2.0.1 charger sends for one requestId
    (NotifyReport, NotifyMonitoringReport, NotifyCustomerInformation);
    complete once the last part (tbc false) and every part before it are in."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=24, choices=ReportKind.choices)
    request_id = models.IntegerField()
    generated_at = models.DateTimeField()
    seq_nos = models.JSONField(default=list, help_text="The part numbers received.")
    last_seq_no = models.IntegerField(null=True, blank=True, help_text="Known once tbc is false.")
    complete = models.BooleanField(default=False)
    text_parts = models.JSONField(
        default=dict, blank=True, help_text="Customer information: the data of each part by seqNo."
    )
    command = models.ForeignKey(
        "commands.Command",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        help_text="The command that asked for this report.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "kind", "request_id"], name="chargerreport_unique_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.kind} report {self.request_id}"

    @property
    def text(self) -> str:
        """The customer information parts joined in seqNo order."""
        return "".join(self.text_parts[key] for key in sorted(self.text_parts, key=int))


class ConfigurationKey(models.Model):
    """An OCPP 1.6 configuration key of a charger, as last read
    (GetConfiguration) or successfully changed (ChangeConfiguration)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="configuration_keys"
    )
    key = models.CharField(max_length=50)
    value = models.TextField(blank=True)
    readonly = models.BooleanField(null=True, blank=True)
    reboot_required = models.BooleanField(
        default=False, help_text="Changed, but takes effect only after a reboot."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["charge_point_id", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "key"], name="configurationkey_unique_per_cp"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}: {self.key}={self.value}"


class DeviceModelVariable(AddressedVariable):
    """One attribute of one variable of one component (OCPP 2.0.1 device
    model), as last reported."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="device_model_variables"
    )
    attribute_type = models.CharField(max_length=8, default="Actual")
    value = models.TextField(blank=True)
    mutability = models.CharField(max_length=10, blank=True)
    persistent = models.BooleanField(null=True, blank=True)
    constant = models.BooleanField(null=True, blank=True)
    characteristics = models.JSONField(
        null=True, blank=True, help_text="unit, dataType, minLimit, maxLimit, valuesList, …"
    )
    report = models.ForeignKey(
        ChargerReport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["charge_point_id", "component_name", "variable_name", "attribute_type"]
        indexes = [models.Index(fields=["charge_point", "component_name", "variable_name"])]

    def __str__(self) -> str:
        return f"{self.component_name}.{self.variable_name}[{self.attribute_type}]={self.value}"


class ChargerEvent(AddressedVariable):
    """An event of an OCPP 2.0.1 charger's device model (NotifyEvent): a
    monitored variable crossed a threshold, a component failed, a problem
    cleared. Kept once per (charger, eventId, timestamp)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="charger_events"
    )
    event_id = models.IntegerField()
    timestamp = models.DateTimeField()
    trigger = models.CharField(max_length=16)
    cause = models.IntegerField(null=True, blank=True, help_text="eventId of the cause.")
    actual_value = models.CharField(max_length=2500, blank=True)
    tech_code = models.CharField(max_length=50, blank=True)
    tech_info = models.CharField(max_length=500, blank=True)
    cleared = models.BooleanField(default=False)
    transaction_id = models.CharField(max_length=36, blank=True)
    variable_monitoring_id = models.IntegerField(null=True, blank=True)
    event_notification_type = models.CharField(max_length=24)
    generated_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "event_id", "timestamp"], name="chargerevent_unique"
            )
        ]
        indexes = [models.Index(fields=["charge_point", "-timestamp"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id} event {self.event_id}: {self.variable_name}"


class VariableMonitor(AddressedVariable):
    """A monitor set on a variable of an OCPP 2.0.1 charger's device model
    (NotifyMonitoringReport), as last reported. Monitor ids are unique per
    charger."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="variable_monitors"
    )
    monitor_id = models.IntegerField()
    type = models.CharField(max_length=24, help_text="UpperThreshold, Delta, Periodic, …")
    value = models.FloatField()
    severity = models.PositiveSmallIntegerField(help_text="0 (Danger) to 9 (Debug).")
    transaction = models.BooleanField(
        default=False, help_text="Active only while a transaction runs."
    )
    report = models.ForeignKey(
        ChargerReport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["charge_point_id", "monitor_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "monitor_id"], name="variablemonitor_unique_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} monitor {self.monitor_id}: {self.variable_name}"


class DisplayMessage(models.Model):
    """A message configured on an OCPP 2.0.1 charger's display, as last
    reported (NotifyDisplayMessages). Message ids are unique per charger."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="display_messages"
    )
    message_id = models.IntegerField()
    priority = models.CharField(max_length=16, help_text="AlwaysFront, InFront, NormalCycle.")
    state = models.CharField(max_length=16, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    transaction_id = models.CharField(max_length=36, blank=True)
    message_format = models.CharField(max_length=8, help_text="ASCII, HTML, URI, UTF8.")
    message_language = models.CharField(max_length=8, blank=True)
    message_content = models.CharField(max_length=512)
    display_component_name = models.CharField(max_length=50, blank=True)
    display_component_instance = models.CharField(max_length=50, blank=True)
    request_id = models.IntegerField(help_text="Of the report that last listed the message.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["charge_point_id", "message_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "message_id"], name="displaymessage_unique_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} message {self.message_id}"
