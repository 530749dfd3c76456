from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "Files from and for chargers"

    def ready(self) -> None:
        # What the answers to GetDiagnostics / GetLog change (commands/results.py).
        from files import results  # noqa: F401
