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


class FileRequest(models.Model):
    """A request for a charger to upload a file (diagnostics, a log), with the
    one-off credentials of its upload location and how it went."""

    charge_point = models.ForeignKey(
        "chargepoints.ChargePoint", on_delete=models.CASCADE, related_name="file_requests"
    )
    kind = models.CharField(max_length=16, choices=FileKind.choices)
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
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
    username = models.CharField(max_length=32, unique=True)
    password_hash = models.CharField(max_length=64, help_text="SHA-256 of the password.")
    expires_at = models.DateTimeField()
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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} of {self.charge_point_id} ({self.status})"

    @property
    def request_id(self) -> int:
        """The requestId of GetLog, which LogStatusNotification repeats."""
        return self.pk
