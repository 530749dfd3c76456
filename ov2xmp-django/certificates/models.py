"""Certificates chargers ask for (SignCertificate), the certificates the CA
issued for them, and the GetCertificateStatus and Get15118EVCertificate
requests with what was answered."""

from django.db import models

from chargepoints.models import ChargePoint, OcppVersion


class CertificateType(models.TextChoices):
    CHARGING_STATION = "ChargingStationCertificate"
    V2G = "V2GCertificate"


class SigningStatus(models.TextChoices):
    """The life of a signing request: the answer to SignCertificate
    (Rejected / Accepted), the CA's work (Signed / SigningFailed), then the
    charger's answer to CertificateSigned (Delivered / DeliveryRejected), or
    no answer at all (DeliveryFailed: timeout, CallError, connection lost)."""

    REJECTED = "Rejected"
    ACCEPTED = "Accepted"
    SIGNED = "Signed"
    SIGNING_FAILED = "SigningFailed"
    DELIVERED = "Delivered"
    DELIVERY_REJECTED = "DeliveryRejected"
    DELIVERY_FAILED = "DeliveryFailed"


class AnswerStatus(models.TextChoices):
    """What GetCertificateStatus and Get15118EVCertificate are answered."""

    ACCEPTED = "Accepted"
    FAILED = "Failed"


class RevocationReason(models.TextChoices):
    """RFC 5280 CRLReason, spelled as ``cryptography.x509.ReasonFlags`` values."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    CA_COMPROMISE = "cACompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    CERTIFICATE_HOLD = "certificateHold"
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"
    AA_COMPROMISE = "aACompromise"


class StatusInfo(models.Model):
    """What OCPP 2.0.1 calls statusInfo: why an answer is what it is."""

    reason_code = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=512, blank=True)

    class Meta:
        abstract = True


class CertificateSigningRequest(StatusInfo):
    """A CSR a charger sent in SignCertificate (OCPP 2.0.1, or the 1.6
    security extension), and what became of it."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="certificate_signing_requests"
    )
    ocpp_version = models.CharField(max_length=8, choices=OcppVersion.choices)
    certificate_type = models.CharField(max_length=32, choices=CertificateType.choices)
    csr_pem = models.TextField()
    subject = models.CharField(max_length=1024, blank=True, help_text="As the CSR names it.")
    status = models.CharField(max_length=20, choices=SigningStatus.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the charger answered CertificateSigned, or failed to.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.certificate_type}: {self.status}"


class IssuedCertificate(models.Model):
    """A certificate our CA signed. Kept when the charger or its request is
    deleted: the CA's record of what it issued, which OCSP answers from."""

    signing_request = models.OneToOneField(
        CertificateSigningRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="certificate",
    )
    charge_point = models.ForeignKey(
        ChargePoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issued_certificates",
    )
    certificate_type = models.CharField(max_length=32, choices=CertificateType.choices)
    serial_number = models.CharField(
        max_length=40, unique=True, help_text="Lower-case hex, no leading zeros."
    )
    subject = models.CharField(max_length=1024)
    issuer = models.CharField(max_length=1024, help_text="The issuing CA's subject (RFC 4514).")
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    certificate_pem = models.TextField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(
        max_length=24, choices=RevocationReason.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial_number})"


class CertificateStatusRequest(StatusInfo):
    """A GetCertificateStatus (OCSP) request and what was answered."""

    class AnsweredBy(models.TextChoices):
        CSMS_CA = "ca", "our certificate authority"
        RESPONDER = "responder", "the OCSP responder at responderURL"

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="certificate_status_requests"
    )
    hash_algorithm = models.CharField(max_length=8)
    issuer_name_hash = models.CharField(max_length=128)
    issuer_key_hash = models.CharField(max_length=128)
    serial_number = models.CharField(max_length=40)
    responder_url = models.CharField(max_length=512)
    status = models.CharField(max_length=8, choices=AnswerStatus.choices)
    answered_by = models.CharField(max_length=10, choices=AnsweredBy.choices, blank=True)
    certificate_status = models.CharField(
        max_length=8, blank=True, help_text="good, revoked or unknown, as the OCSP response says."
    )
    ocsp_result = models.TextField(blank=True, help_text="The OCSP response, DER, base64.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id} OCSP {self.serial_number}: {self.status}"


class EvCertificateRequest(StatusInfo):
    """A Get15118EVCertificate request (an EV's contract certificate, ISO
    15118) and what was answered."""

    class Action(models.TextChoices):
        INSTALL = "Install"
        UPDATE = "Update"

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="ev_certificate_requests"
    )
    iso15118_schema_version = models.CharField(max_length=50)
    action = models.CharField(max_length=8, choices=Action.choices)
    exi_request = models.TextField(help_text="The EV's EXI request, base64.")
    status = models.CharField(max_length=8, choices=AnswerStatus.choices)
    exi_response = models.TextField(blank=True, help_text="The EXI response, base64.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.action}: {self.status}"
