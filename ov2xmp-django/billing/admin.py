from django.contrib import admin

from billing.models import Cdr, PrepaidEntry, Tariff, TariffVersion
from core.admin import ReadOnlyAdmin


class TariffVersionInline(admin.TabularInline):
    model = TariffVersion
    extra = 0


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "vat_percent", "charge_point", "location", "current"]
    list_filter = ["currency", "current"]
    search_fields = ["name"]
    inlines = [TariffVersionInline]


@admin.register(Cdr)
class CdrAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "charge_point_id",
        "started_at",
        "total_incl_vat",
        "currency",
        "is_current",
    ]
    list_filter = ["is_current", "currency"]
    search_fields = ["charge_point_id", "id_token_value"]


@admin.register(PrepaidEntry)
class PrepaidEntryAdmin(ReadOnlyAdmin):
    list_display = ["user", "amount", "currency", "cdr", "description", "created_at"]
    list_filter = ["currency"]
    search_fields = ["user__username", "description"]
