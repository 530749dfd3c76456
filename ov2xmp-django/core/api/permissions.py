from typing import Any

from rest_framework.permissions import DjangoModelPermissions


class ModelViewPermission(DjangoModelPermissions):
    """Reading needs the model's view permission as well. The default,
    DjangoModelPermissions, lets any logged-in user read; this guards data
    that only some may see, such as exports. Unauthenticated: 401.

    The model is the view's queryset's, or its ``view_permission_model``
    (the meter value export asks for the sessions' permission)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Any, view: Any) -> bool:
        model = getattr(view, "view_permission_model", None)
        if model is None:
            return super().has_permission(request, view)
        if not request.user or not request.user.is_authenticated:
            return False
        return request.user.has_perms(self.get_required_permissions(request.method, model))
