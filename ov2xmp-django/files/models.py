from django.conf import settings
from django.db import models


class FileKind(models.TextChoices):
    DIAGNOSTICS = "Diagnostics", "Diagnostics (1.6 GetDiagnostics; 2.0.1 GetLog DiagnosticsLog)"
    DIAGNOSTICS_LOG = "DiagnosticsLog", "Diagnostics log (GetLog DiagnosticsLog)"
    SECURITY_LOG = "SecurityLog", "Security log (GetLog SecurityLog)"


class Protocol(models.TextChoices):
    FTP = "ftp", "FTP"
    HTTP = "http", "HTTP (PUT or multipart POST)"


class FileRequestStatus(models.TextChoices):
    REQUESTED = "Requested", "Command on its way"
    ACCEPTED = "Accepted", "The charger accepted the request"
    REJECTED = "Rejected", "The charger rejected the request"
    FAILED = "Failed", "The command failed (see the command)"
    UPLOADING = "Uploading", "The charger is uploading"
    UPLOADED = "Uploaded", "The charger says the upload is done"
    UPLOAD_FAILED = "UploadFailed", "The charger says the upload failed"
    RECEIVED = "Received", "The file has arrived"


# No later status replaces these.
FINAL_STATUSES = (FileRequestStatus.REJECTED, FileRequestStatus.FAILED, FileRequestStatus.RECEIVED)


class StoredFile(models.Model):
    """A file a charger uploaded, kept under OV2XMP_FILES_DIR."""

    charge_point = models.ForeignKey(
        "chargepoints.ChargePoint", on_delete=models.CASCADE, related_name="files"
    )
    kind = models.CharField(max_length=16, choices=FileKind.choices)
    name = models.CharField(max_length=255, help_text="The name the charger gave it.")
    path = models.CharField(max_length=500, help_text="Where it lies, below the files directory.")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.charge_point_id}: {self.name}"


class Transfer(models.Model):
    """What file requests and firmware updates share: the login of their
    transfer location (FTP or HTTP), made for them alone, stored as a hash,
    valid until it expires; and who asked, when."""

    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    username = models.CharField(max_length=32, unique=True)
    password_hash = models.CharField(max_length=64, help_text="SHA-256 of the password.")
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def request_id(self) -> int:
        """The requestId of the command (GetLog, UpdateFirmware, …), which the
        charger's status notifications repeat."""
        return self.pk


class FileRequest(Transfer):
    """A request for a charger to upload a file (diagnostics, a log), with the
    one-off credentials of its upload location and how it went."""

    charge_point = models.ForeignKey(
        "chargepoints.ChargePoint", on_delete=models.CASCADE, related_name="file_requests"
    )
    kind = models.CharField(max_length=16, choices=FileKind.choices)
    status = models.CharField(
        max_length=16, choices=FileRequestStatus.choices, default=FileRequestStatus.REQUESTED
    )
    status_at = models.DateTimeField(null=True, blank=True)
    charger_status = models.CharField(
        max_length=32, blank=True, help_text="The last upload status the charger reported."
    )
    file_name = models.CharField(
        max_length=255, blank=True, help_text="The file name the charger announced."
    )
    used_at = models.DateTimeField(
        null=True, blank=True, help_text="When a file arrived: the credentials end then."
    )
    command = models.OneToOneField(
        "commands.Command",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="file_request",
    )
    file = models.OneToOneField(
        StoredFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="request"
    )

    def __str__(self) -> str:
        return f"{self.kind} of {self.charge_point_id} ({self.status})"


class FirmwareImage(models.Model):
    """A firmware image an operator uploaded, to be served to chargers."""

    name = models.CharField(max_length=255, help_text="The file name chargers download.")
    version = models.CharField(max_length=50, blank=True)
    description = models.TextField(blank=True)
    path = models.CharField(max_length=500, help_text="Where it lies, below the files directory.")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    signing_certificate = models.TextField(
        blank=True, help_text="PEM certificate of the firmware signer (signed updates)."
    )
    signature = models.TextField(
        blank=True, help_text="Base64 signature of the image (signed updates)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class FirmwareUpdate(Transfer):
    """UpdateFirmware (or SignedUpdateFirmware) sent to a charger, pointing at
    a download location the platform serves, with its progress."""

    charge_point = models.ForeignKey(
        "chargepoints.ChargePoint", on_delete=models.CASCADE, related_name="firmware_updates"
    )
    firmware = models.ForeignKey(FirmwareImage, on_delete=models.PROTECT, related_name="updates")
    signed = models.BooleanField(default=False)
    status = models.CharField(
        max_length=32,
        default="Requested",
        help_text="Requested, then Accepted / Rejected / Failed (the command), then what the "
        "charger reports in FirmwareStatusNotification (Downloading … Installed).",
    )
    status_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(
        default=0, help_text="How often the charger started downloading the image."
    )
    command = models.OneToOneField(
        "commands.Command",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="firmware_update",
    )

    def __str__(self) -> str:
        return f"{self.firmware} to {self.charge_point_id} ({self.status})"
