from django.contrib import admin

from core.admin import ReadOnlyAdmin
from reservations.models import Reservation


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = [
        "charge_point",
        "reservation_id",
        "evse_id",
        "id_token_value",
        "status",
        "expires_at",
    ]
    list_filter = ["status"]
    search_fields = ["charge_point__id", "id_token_value"]
