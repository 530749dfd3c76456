"""A stored file's bytes go with its row, however the row is deleted (through
the API, or with its charger), once the deletion is committed."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from files.models import FirmwareImage, StoredFile
from files.services import files_dir


@receiver(post_delete, sender=StoredFile)
@receiver(post_delete, sender=FirmwareImage)
def _remove_the_file(sender: type, instance: StoredFile | FirmwareImage, **_: Any) -> None:
    if instance.path:
        path = files_dir() / instance.path
        transaction.on_commit(lambda: path.unlink(missing_ok=True))
