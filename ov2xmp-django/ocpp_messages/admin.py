from django.contrib import admin

from core.admin import ReadOnlyAdmin
from ocpp_messages.models import OcppMessage


@admin.register(OcppMessage)
class OcppMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "timestamp",
        "charge_point_id",
        "direction",
        "message_type",
        "action",
        "unique_id",
    ]
    list_filter = ["direction", "message_type", "action"]
    search_fields = ["charge_point_id", "unique_id"]
