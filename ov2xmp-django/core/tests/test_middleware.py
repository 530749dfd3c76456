from __future__ import annotations

from asgiref.sync import iscoroutinefunction
from django.core.handlers.asgi import ASGIHandler
from django.utils.deprecation import MiddlewareMixin


def test_under_asgi_no_middleware_runs_in_async_mode(monkeypatch):
    """Each of Django's middlewares in async mode hands its work to a thread
    and back; the chain must run sync, in one thread, with the view."""
    built: list[MiddlewareMixin] = []
    original = MiddlewareMixin.__init__

    def record(self: MiddlewareMixin, get_response) -> None:  # type: ignore[no-untyped-def]
        original(self, get_response)
        built.append(self)

    monkeypatch.setattr(MiddlewareMixin, "__init__", record)
    handler = ASGIHandler()  # loads the middleware of the settings, as served
    assert built, "Django's middlewares were not built"
    assert [type(m).__name__ for m in built if iscoroutinefunction(m)] == []
    assert iscoroutinefunction(handler._middleware_chain)  # adapted once, at the top
