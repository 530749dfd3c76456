from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """What chargers report is evidence: shown, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
