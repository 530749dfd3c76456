from django.contrib import admin

from idtokens.models import IdToken


@admin.register(IdToken)
class IdTokenAdmin(admin.ModelAdmin):
    list_display = ["value", "type", "status", "expires_at", "parent", "owner"]
    list_filter = ["type", "status"]
    search_fields = ["value", "description", "owner__username"]
    raw_id_fields = ["parent", "owner"]
