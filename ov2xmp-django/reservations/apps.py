from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    name = "reservations"
    verbose_name = "Reservations"

    def ready(self) -> None:
        # What the answers to ReserveNow / CancelReservation change (commands/results.py).
        from reservations import results  # noqa: F401
