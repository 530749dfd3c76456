"""The dashboard's password reset pages: ask for a link, check your mail, set
the new password, done. Django's auth views, with the dashboard's look and
content security policy, the API's throttles, the mail sent apart from the
request, and the password set through ``user_password_reset`` (once per link)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.views.generic import TemplateView

from accounts import reset_links
from accounts.models import User
from accounts.selectors import user_for_password_reset_link
from accounts.services import PasswordResetLinkInvalid, user_password_reset
from accounts.tasks import password_reset_requested
from accounts.throttles import password_reset_request_allowed
from dashboard.views import content_security_policy


class DashboardLook:
    """As the dashboard's pages, without the login: never cached, under the
    content security policy."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        add_never_cache_headers(response)
        response["Content-Security-Policy"] = content_security_policy()
        return response


class PasswordResetRequestPage(DashboardLook, auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password-reset-sent")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        if not password_reset_request_allowed(self.request):
            form.add_error(
                None,
                "Too many password reset requests for this address or from this "
                "computer. Try again later.",
            )
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        # Not form.save(): that would send the mail now, taking longer for an
        # address that has an account.
        password_reset_requested(form.cleaned_data["email"])
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetSentPage(DashboardLook, TemplateView):
    template_name = "accounts/password_reset_sent.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {"validity": reset_links.validity_text()}


class PasswordResetConfirmPage(DashboardLook, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def get_user(self, uidb64: str) -> User | None:  # type: ignore[override]
        return user_for_password_reset_link(uidb64=uidb64)

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        # The token was moved into the session on the first visit, so that it
        # leaves the address bar (and Referer headers).
        token = self.request.session.get(auth_views.INTERNAL_RESET_SESSION_TOKEN, "")
        try:
            user_password_reset(
                uidb64=self.kwargs["uidb64"],
                token=token,
                new_password=form.cleaned_data["new_password1"],
            )
        except PasswordResetLinkInvalid:
            # Used meanwhile, from another tab or the API.
            self.validlink = False
            return self.render_to_response(self.get_context_data())
        except ValidationError as error:
            form.add_error("new_password2", error)
            return self.form_invalid(form)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompletePage(DashboardLook, auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
