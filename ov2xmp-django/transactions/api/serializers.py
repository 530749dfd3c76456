from rest_framework import serializers

from transactions.models import MeterValue, Transaction, TransactionEvent


class MeterValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterValue
        fields = [
            "id",
            "charge_point",
            "transaction",
            "evse_id",
            "connector_id",
            "timestamp",
            "measurand",
            "phase",
            "unit",
            "context",
            "location",
            "format",
            "value",
            "numeric_value",
            "signed_meter_value",
            "received_at",
        ]
        read_only_fields = fields


class TransactionSerializer(serializers.ModelSerializer):
    energy_wh = serializers.DecimalField(
        max_digits=20, decimal_places=3, read_only=True, allow_null=True
    )
    energy_exported_wh = serializers.DecimalField(
        max_digits=20, decimal_places=3, read_only=True, allow_null=True
    )

    class Meta:
        model = Transaction
        fields = [
            "id",
            "charge_point",
            "ocpp_transaction_id",
            "ocpp_version",
            "evse_id",
            "connector_id",
            "status",
            "id_token",
            "id_token_value",
            "authorization_status",
            "stop_id_token_value",
            "reservation_id",
            "started_at",
            "stopped_at",
            "stop_reason",
            "meter_start_wh",
            "meter_stop_wh",
            "meter_last_wh",
            "meter_last_at",
            "energy_wh",
            "export_start_wh",
            "export_last_wh",
            "energy_exported_wh",
            "power_import_w",
            "power_export_w",
            "flow_last_at",
            "operation_mode",
            "charging_state",
            "remote_start_id",
            "last_seq_no",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TransactionEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TransactionEvent
        fields = [
            "id",
            "seq_no",
            "event_type",
            "trigger_reason",
            "timestamp",
            "offline",
            "charging_state",
            "stopped_reason",
            "id_token_value",
            "received_at",
        ]
        read_only_fields = fields
