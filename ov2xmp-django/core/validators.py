from django.core.validators import RegexValidator

CURRENCY = RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code (EUR).")
