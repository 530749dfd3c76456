from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The platform's user. A project-owned model from the start, so that roles,
    profile fields and the owner links of id tokens can grow without a
    migration of Django's built-in user table."""

    class Meta:
        db_table = "accounts_user"
