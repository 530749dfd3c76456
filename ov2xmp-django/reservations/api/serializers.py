from rest_framework import serializers

from reservations.models import Reservation


class ReservationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reservation
        fields = [
            "id",
            "charge_point",
            "reservation_id",
            "evse_id",
            "connector_type",
            "id_token_value",
            "id_token_type",
            "group_id_token_value",
            "expires_at",
            "status",
            "status_at",
            "transaction",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
