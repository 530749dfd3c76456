from django.contrib import admin

from commands.models import Command
from core.admin import ReadOnlyAdmin


@admin.register(Command)
class CommandAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "charge_point", "action", "ocpp_version", "status", "created_by"]
    list_filter = ["status", "ocpp_version", "action"]
    search_fields = ["id", "charge_point__id", "action"]
