from celery import shared_task

from core.time import utc_now
from files.services import transfer_directories_clean


@shared_task(ignore_result=True)
def files_clean() -> None:
    """Remove what ended transfers left on disk."""
    transfer_directories_clean(at=utc_now())
