from django.db.models import ProtectedError
from rest_framework import status
from rest_framework.exceptions import APIException


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is still referenced."
    default_code = "conflict"


class ProtectedDestroyMixin:
    """A delete refused by a PROTECT foreign key answers 409 with the reason,
    not 500."""

    protected_detail = "It is still referenced."

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError as error:
            raise Conflict(self.protected_detail) from error
