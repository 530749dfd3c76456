from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "Files from and for chargers"

    def ready(self) -> None:
        # What the answers to GetDiagnostics / GetLog / UpdateFirmware change
        # (commands/results.py), and files removed with their rows.
        from files import results, signals  # noqa: F401
