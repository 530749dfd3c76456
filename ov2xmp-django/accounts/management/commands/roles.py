from typing import Any

from django.core.management.base import BaseCommand

from accounts.roles import permission_matrix


class Command(BaseCommand):
    help = "Print the roles' permission table (the one in docs/roles.md)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(permission_matrix(), ending="")
