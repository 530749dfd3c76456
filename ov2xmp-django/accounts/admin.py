from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from accounts.models import User, Vehicle

# Who may grant what: nobody their own role, flags or permissions; only
# superusers the superuser flag and single permissions.
SELF_LOCKED = ("role", "is_superuser", "is_staff", "is_active", "groups", "user_permissions")
SUPERUSER_ONLY = ("is_superuser", "user_permissions")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Role and profile", {"fields": ("role", "vendor_name", "phone", "language")}),
        ("Prepaid", {"fields": ("prepaid_currency",)}),
    )
    list_display = ("username", "email", "role", "is_active", "is_superuser", "last_login")
    list_filter = ("role", "is_active", "is_superuser")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        locked = set(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            locked |= set(SELF_LOCKED)
        if not request.user.is_superuser:
            locked |= set(SUPERUSER_ONLY)
            if not request.user.has_perm("accounts.assign_roles"):
                locked |= {"role", "is_staff", "groups"}
        return tuple(locked)


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "license_plate", "evcc_id")
    search_fields = ("name", "license_plate", "evcc_id", "owner__username")
