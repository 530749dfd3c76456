from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

LISTS = [
    ("users", "user-list"),
    ("vehicles", "vehicle-list"),
    ("chargepoints", "chargepoint-list"),
    ("connectors", "connector-list"),
    ("status_notifications", "statusnotification-list"),
    ("security_events", "securityevent-list"),
    ("charger_events", "chargerevent-list"),
    ("configuration_keys", "configurationkey-list"),
    ("device_model_variables", "devicemodelvariable-list"),
    ("variable_monitors", "variablemonitor-list"),
    ("charger_reports", "chargerreport-list"),
    ("display_messages", "displaymessage-list"),
    ("id_tokens", "idtoken-list"),
    ("local_list_updates", "locallistupdate-list"),
    ("prepaid_entries", "prepaidentry-list"),
    ("transactions", "transaction-list"),
    ("meter_values", "metervalue-list"),
    ("reservations", "reservation-list"),
    ("charging_needs", "chargingneeds-list"),
    ("ev_charging_schedules", "evchargingschedule-list"),
    ("charging_limits", "charginglimit-list"),
    ("reported_charging_profiles", "reportedchargingprofile-list"),
    ("charging_profiles", "chargingprofile-list"),
    ("load_groups", "loadgroup-list"),
    ("grid_signals", "gridsignal-list"),
    ("der_events", "derevent-list"),
    ("certificate_signing_requests", "certificatesigningrequest-list"),
    ("issued_certificates", "issuedcertificate-list"),
    ("certificate_status_requests", "certificatestatusrequest-list"),
    ("ev_certificate_requests", "evcertificaterequest-list"),
    ("commands", "command-list"),
    ("file_requests", "filerequest-list"),
    ("files", "storedfile-list"),
    ("firmware", "firmwareimage-list"),
    ("firmware_updates", "firmwareupdate-list"),
    ("ocpp_messages", "ocppmessage-list"),
]


class ApiRootView(APIView):
    """Where everything is: the lists, the token endpoints and the docs."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        def url(name: str) -> str:
            return reverse(name, request=request)

        return Response(
            {
                "docs": url("swagger-ui"),
                "schema": url("schema"),
                "token": url("token-obtain"),
                "token_refresh": url("token-refresh"),
                "token_verify": url("token-verify"),
                "me": url("me"),
                **{key: url(name) for key, name in LISTS},
            }
        )
