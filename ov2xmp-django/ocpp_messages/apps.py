from django.apps import AppConfig


class OcppMessagesConfig(AppConfig):
    name = "ocpp_messages"
    verbose_name = "OCPP message log"
