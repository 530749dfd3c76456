from rest_framework import serializers

from ocpp_messages.models import OcppMessage


class OcppMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OcppMessage
        fields = [
            "id",
            "charge_point_id",
            "direction",
            "message_type",
            "unique_id",
            "action",
            "payload",
            "error_code",
            "raw",
            "ocpp_version",
            "timestamp",
        ]
        read_only_fields = fields
