from django.apps import AppConfig


class SmartChargingConfig(AppConfig):
    name = "smartcharging"
    verbose_name = "Smart charging"

    def ready(self) -> None:
        # Registers what answers to the profile commands change.
        from smartcharging import results  # noqa: F401
