"""Middleware of our own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class RunSynchronously:
    """Last in MIDDLEWARE: a sync-only middleware, so that under ASGI Django
    runs the whole middleware chain and the view in one worker thread.
    Otherwise each of Django's middlewares (which can run either way) is
    called in async mode and hands its sync work to a thread, back and forth
    for every middleware: two dozen thread switches per API request, which
    made a trivial request take about 10 ms. Our views are sync anyway."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
