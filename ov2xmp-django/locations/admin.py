from django.contrib import admin

from locations.models import Location


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "country", "access", "parking_type", "latitude", "longitude"]
    list_filter = ["access", "parking_type", "country"]
    search_fields = ["name", "address", "city", "postal_code"]
