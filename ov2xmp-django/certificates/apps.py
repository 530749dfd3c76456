from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "Certificates"

    def ready(self) -> None:
        # A configured CA or EV-certificate provider that cannot be loaded stops
        # the start with the variable's name, not the first charger's request.
        from certificates.authority import check_configuration

        check_configuration()
