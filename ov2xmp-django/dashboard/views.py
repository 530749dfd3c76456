"""The operator dashboard: server-rendered pages that the feed keeps live.

A page is made of sections. ``?fragment=<section>`` renders one section alone:
the page's script fetches it again when an event says that section changed,
so the HTML of each section is written once, here and in its template.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from rest_framework_simplejwt.tokens import AccessToken

from accounts.roles import send_permission
from accounts.scoping import is_scoped
from billing.selectors import session_cost_so_far
from chargepoints.models import ChargePoint
from core.time import utc_now
from dashboard import selectors
from dashboard.commands import command_forms
from transactions.models import Transaction

PAGE_SIZE = 50
DAYS_CHARTED = 14
HISTORY_LENGTH = 20
FRAMES_SHOWN = 50
SERIES_LENGTH = 2000

Section = Callable[[], dict[str, Any]]
View = Callable[..., HttpResponse]


def content_security_policy() -> str:
    """The browser runs only the dashboard's own scripts and talks only to
    this origin (API and feed); images may come from the map's tile server.
    Chart.js and Leaflet set inline styles."""
    tiles = urlsplit(settings.MAP_TILES_URL)
    images = f"'self' data: {tiles.scheme}://{tiles.netloc}" if tiles.netloc else "'self' data:"
    return (
        f"default-src 'self'; img-src {images}; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )


def page(*permissions: str) -> Callable[[View], View]:
    """A dashboard page: logged in (else to the login page), the permissions
    held (else 403), never cached, and under the content security policy."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if is_scoped(request.user):
                # The pages show the whole network; a vendor or a driver sees
                # their part through the API.
                raise PermissionDenied("Your role uses the API: /api/")
            response = view(request, *args, **kwargs)
            response["Content-Security-Policy"] = content_security_policy()
            return response

        guarded = permission_required(permissions, raise_exception=True)(wrapped)
        return never_cache(login_required(guarded))

    return decorate


def render_sections(
    request: HttpRequest,
    template: str,
    sections: dict[str, tuple[str, Section]],
    context: dict[str, Any],
) -> HttpResponse:
    """The whole page, or with ``?fragment=`` one section's template alone."""
    name = request.GET.get("fragment")
    if name is not None:
        if name not in sections:
            raise Http404(f"no section {name!r} on this page")
        fragment_template, build = sections[name]
        return render(request, fragment_template, context | build())
    for _template, build in sections.values():
        context = context | build()
    return render(request, template, context)


@page("chargepoints.view_chargepoint")
def overview(request: HttpRequest) -> HttpResponse:
    def totals() -> dict[str, Any]:
        now = utc_now()
        if not request.user.has_perm("transactions.view_transaction"):
            return {"totals": selectors.network_totals(now=now)}
        return {
            "totals": selectors.network_totals(now=now),
            "daily": [
                {
                    "day": total.day.isoformat(),
                    "sessions": total.sessions,
                    "energy_kwh": round(float(total.energy_wh) / 1000, 3),
                }
                for total in selectors.daily_totals(now=now, days=DAYS_CHARTED)
            ],
        }

    def locations_map() -> dict[str, Any]:
        return {"map_locations": selectors.map_locations()}

    return render_sections(
        request,
        "dashboard/overview.html",
        {
            "totals": ("dashboard/_totals.html", totals),
            "map": ("dashboard/_map_data.html", locations_map),
        },
        {
            "topics": ["chargers"],
            "days_charted": DAYS_CHARTED,
            "map_tiles": {"url": settings.MAP_TILES_URL, "attribution": settings.MAP_ATTRIBUTION},
        },
    )


@page("chargepoints.view_chargepoint")
def chargers(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    state = request.GET.get("state", "")

    def rows() -> dict[str, Any]:
        listed = selectors.chargers_listed(search=search, state=state)
        return {"page_obj": Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))}

    return render_sections(
        request,
        "dashboard/chargers.html",
        {"rows": ("dashboard/_charger_rows.html", rows)},
        {"topics": ["chargers"], "search": search, "state": state},
    )


@page("chargepoints.view_chargepoint")
def charger(request: HttpRequest, charger_id: str) -> HttpResponse:
    charge_point = get_object_or_404(ChargePoint, pk=charger_id)
    user = request.user
    may_see_frames = user.has_perm("ocpp_messages.view_ocppmessage")
    may_see_commands = user.has_perm("commands.view_command")
    topics = [f"charger:{charge_point.id}"]

    def connectors() -> dict[str, Any]:
        return {"connectors": selectors.charger_connectors(charge_point=charge_point)}

    def history() -> dict[str, Any]:
        return {
            "history": selectors.charger_status_history(
                charge_point=charge_point, limit=HISTORY_LENGTH
            )
        }

    def commands() -> dict[str, Any]:
        return {"commands": selectors.charger_commands(charge_point=charge_point, limit=10)}

    def settings() -> dict[str, Any]:
        return {"settings": selectors.charger_settings(charge_point=charge_point)}

    def frames() -> dict[str, Any]:
        return {
            "frames": selectors.charger_frames(charge_point_id=charge_point.id, limit=FRAMES_SHOWN)
        }

    sections: dict[str, tuple[str, Section]] = {
        "header": ("dashboard/_charger_header.html", dict),
        "connectors": ("dashboard/_connectors.html", connectors),
        "history": ("dashboard/_status_history.html", history),
        "settings": ("dashboard/_settings.html", settings),
    }
    # What the user may not read is neither on the page nor served alone.
    if may_see_commands:
        sections["commands"] = ("dashboard/_commands.html", commands)
    if may_see_frames:
        sections["frames"] = ("dashboard/_frames.html", frames)
        topics.append(f"frames:{charge_point.id}")
    return render_sections(
        request,
        "dashboard/charger.html",
        sections,
        {
            "charger": charge_point,
            "topics": topics,
            "may_see_frames": may_see_frames,
            "may_see_commands": may_see_commands,
            "command_forms": [
                form
                for form in command_forms(charge_point.ocpp_version)
                if user.has_perm(send_permission(form.action))
            ],
        },
    )


# The list is live through the "chargers" topic, and names the chargers.
@page("transactions.view_transaction", "chargepoints.view_chargepoint")
def sessions(request: HttpRequest) -> HttpResponse:
    def active() -> dict[str, Any]:
        return {"active": selectors.sessions_active()}

    def past() -> dict[str, Any]:
        listed = selectors.sessions_past()
        return {"page_obj": Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))}

    return render_sections(
        request,
        "dashboard/sessions.html",
        {
            "active": ("dashboard/_active_sessions.html", active),
            "past": ("dashboard/_past_sessions.html", past),
        },
        {"topics": ["chargers"]},
    )


@page("transactions.view_transaction")
def session(request: HttpRequest, session_id: int) -> HttpResponse:
    transaction = get_object_or_404(Transaction, pk=session_id)

    def summary() -> dict[str, Any]:
        if not request.user.has_perm("billing.view_cdr"):
            return {"cost": None}
        return {"cost": session_cost_so_far(transaction)}

    def chart() -> dict[str, Any]:
        series = selectors.session_series(session=transaction, limit=SERIES_LENGTH)
        return {
            "series": [
                {
                    "at": point.at.isoformat(),
                    "power_w": float(point.power_w) if point.power_w is not None else None,
                    "energy_wh": float(point.energy_wh) if point.energy_wh is not None else None,
                }
                for point in series
            ]
        }

    return render_sections(
        request,
        "dashboard/session.html",
        {
            "summary": ("dashboard/_session_summary.html", summary),
            "chart": ("dashboard/_session_chart.html", chart),
        },
        {"session": transaction, "topics": [f"transaction:{transaction.pk}"]},
    )


# Live through the "chargers" topic: sessions, grid signals and DER alarms.
@page("smartcharging.view_loadgroup", "transactions.view_transaction")
def smart_charging(request: HttpRequest) -> HttpResponse:
    def groups() -> dict[str, Any]:
        return {"groups": selectors.load_groups_now(at=utc_now())}

    def signals() -> dict[str, Any]:
        return {"signals": selectors.grid_signals_recent(at=utc_now(), limit=HISTORY_LENGTH)}

    def der() -> dict[str, Any]:
        if not request.user.has_perm("smartcharging.view_derevent"):
            return {"alarms": None}
        return {"alarms": selectors.der_alarms_recent(limit=HISTORY_LENGTH)}

    return render_sections(
        request,
        "dashboard/smart_charging.html",
        {
            "groups": ("dashboard/_load_groups.html", groups),
            "signals": ("dashboard/_grid_signals.html", signals),
            "der": ("dashboard/_der_alarms.html", der),
        },
        {"topics": ["chargers"]},
    )


@never_cache
def feed_token(request: HttpRequest) -> JsonResponse:
    """An API access token for the page's feed connection (the feed takes
    tokens, not cookies, so no other site's page can open it as this user)."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "log in first"}, status=403)
    token = AccessToken.for_user(request.user)
    return JsonResponse({"token": str(token), "expires_at": token["exp"]})
