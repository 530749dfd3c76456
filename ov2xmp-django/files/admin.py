from django.contrib import admin

from core.admin import ReadOnlyAdmin
from files.models import FileRequest, FirmwareImage, FirmwareUpdate, StoredFile


@admin.register(FileRequest)
class FileRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "charge_point", "kind", "status", "charger_status", "file"]
    list_filter = ["status", "kind"]
    search_fields = ["charge_point__id", "file_name"]
    exclude = ["password_hash"]


@admin.register(StoredFile)
class StoredFileAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "charge_point", "kind", "name", "size"]
    list_filter = ["kind"]
    search_fields = ["charge_point__id", "name", "sha256"]


@admin.register(FirmwareImage)
class FirmwareImageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "name", "version", "size"]
    search_fields = ["name", "version", "sha256"]


@admin.register(FirmwareUpdate)
class FirmwareUpdateAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "charge_point", "firmware", "status", "downloads"]
    list_filter = ["status"]
    search_fields = ["charge_point__id"]
    exclude = ["password_hash"]
