from celery import shared_task

from core.time import utc_now
from reservations import services


@shared_task(ignore_result=True)
def reservations_expire() -> None:
    """Accepted reservations past their expiry become Expired."""
    services.reservations_expire(at=utc_now())
