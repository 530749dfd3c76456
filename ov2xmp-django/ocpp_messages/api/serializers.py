from rest_framework import serializers

from ocpp_messages.models import FRAME_FIELDS, OcppMessage


class OcppMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OcppMessage
        fields = ["id", "charge_point_id", *FRAME_FIELDS, "timestamp"]
        read_only_fields = fields
