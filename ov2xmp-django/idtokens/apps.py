from django.apps import AppConfig


class IdtokensConfig(AppConfig):
    name = "idtokens"
    verbose_name = "Id tokens"
