from django.contrib import admin

from core.admin import ReadOnlyAdmin
from transactions.models import MeterValue, Transaction, TransactionEvent


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "charge_point",
        "ocpp_transaction_id",
        "status",
        "id_token_value",
        "started_at",
        "stopped_at",
    ]
    list_filter = ["status", "ocpp_version"]
    search_fields = ["charge_point__id", "ocpp_transaction_id", "id_token_value"]


@admin.register(TransactionEvent)
class TransactionEventAdmin(ReadOnlyAdmin):
    list_display = ["transaction", "seq_no", "event_type", "trigger_reason", "timestamp"]


@admin.register(MeterValue)
class MeterValueAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "transaction", "timestamp", "measurand", "value", "unit"]
    search_fields = ["charge_point__id"]
