"""``/ws/updates/``: the live-update feed (protocol in docs/live-updates.md).

A client authenticates with an API access token (``?token=`` or a first
``authenticate`` message), subscribes to topics its permissions allow, and
receives each event of those topics as one JSON message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth.models import AbstractUser
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

from accounts.scoping import is_scoped, scope_queryset
from chargepoints.models import ChargePoint
from transactions.models import Transaction
from updates import interest as interest_module
from updates.events import Topic, TopicError

logger = logging.getLogger(__name__)

AUTH_TIMEOUT_SECONDS = 10.0
MAX_SUBSCRIPTIONS = 100
# Close codes (4000 to 4999 are the application's).
CLOSE_UNAUTHENTICATED = 4401


class Unauthenticated(Exception):
    pass


class UpdatesConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user: AbstractUser | None = None

    async def connect(self) -> None:
        self.topics: dict[str, Topic] = {}
        # The number of the last message from each (group, publisher).
        self._received: dict[tuple[str, str], int] = {}
        self._expiry: asyncio.Task[None] | None = None
        self._renewal: asyncio.Task[None] | None = None
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        token = query.get("token", [""])[0]
        if token:
            try:
                await self._authenticate(token)
            except Unauthenticated as error:
                logger.info("live updates: handshake refused: %s", error)
                await self.close()  # before accept: the handshake is refused (403)
                return
            await self.accept()
            await self._say_authenticated()
            return
        await self.accept()
        self._expiry = self._close_after(AUTH_TIMEOUT_SECONDS, "authentication timed out")

    async def disconnect(self, code: int) -> None:
        for task in (self._expiry, self._renewal):
            if task is not None:
                task.cancel()
        for topic in self.topics.values():
            # Gone from the group anyway once the layer's group expiry passes.
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(topic.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "authenticate":
            await self._on_authenticate(content)
        elif self.user is None:
            await self._close_unauthenticated("authenticate first")
        elif kind == "subscribe":
            await self._on_subscribe(content.get("topic"))
        elif kind == "unsubscribe":
            await self._on_unsubscribe(content.get("topic"))
        else:
            await self._error(
                "unknown_message", "types are authenticate, subscribe and unsubscribe"
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Decoded here, not in the base class, so that only a bad frame (not an
        # error further on) is answered as malformed.
        try:
            if text_data is None:
                raise ValueError("a binary frame")
            content = await self.decode_json(text_data)
        except ValueError:  # json.JSONDecodeError too
            await self._error("malformed", "messages are JSON objects in text frames")
            return
        await self.receive_json(content)

    async def update(self, message: dict[str, Any]) -> None:
        """Events of a subscribed topic (from ``updates.publisher``), one frame
        each; first ``events_lost`` if the layer dropped messages before it
        (this client read too slowly, or a send failed)."""
        group, number = message["group"], message["number"]
        if not any(topic.group == group for topic in self.topics.values()):
            return  # sent before this client unsubscribed
        last = self._received.get((group, message["source"]))
        self._received[(group, message["source"])] = number
        if last is not None and number > last + 1:
            lost = [name for name, topic in self.topics.items() if topic.group == group]
            logger.info(
                "live updates: %s lost %d messages of %s",
                self.channel_name,
                number - last - 1,
                lost,
            )
            for topic_name in lost:
                await self.send_json({"type": "events_lost", "topic": topic_name})
        for event in message["events"]:
            await self.send_json(event)

    # --- authentication ------------------------------------------------------------

    async def _authenticate(self, token: object) -> None:
        if not isinstance(token, str) or not token:
            raise Unauthenticated("no token")
        authentication = JWTAuthentication()
        try:
            validated = authentication.get_validated_token(token.encode())
        except (InvalidToken, TokenError) as error:
            raise Unauthenticated("invalid or expired token") from error
        try:
            user = await database_sync_to_async(authentication.get_user)(validated)
        except (AuthenticationFailed, InvalidToken) as error:  # no such user, inactive
            raise Unauthenticated("the token's user cannot log in") from error
        if self.user is not None and user.pk != self.user.pk:
            raise Unauthenticated("a connection stays with the user it started with")
        self.user = user
        self._expires_at = float(validated["exp"])

    async def _on_authenticate(self, content: dict[str, Any]) -> None:
        try:
            await self._authenticate(content.get("token"))
        except Unauthenticated as error:
            if self.user is None:
                await self._close_unauthenticated(str(error))
            else:
                await self._error("authentication_failed", str(error))
            return
        await self._say_authenticated()

    async def _say_authenticated(self) -> None:
        # Renewed by a later authenticate with a fresh token; at expiry, closed.
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry = self._close_after(self._expires_at - time.time(), "token expired")
        await self.send_json(
            {
                "type": "authenticated",
                "user": self.user.get_username() if self.user else "",
                "expires_at": self._expires_at,
            }
        )

    async def _close_unauthenticated(self, reason: str) -> None:
        logger.info("live updates: closing: %s", reason)
        await self.send_json({"type": "error", "error": "unauthenticated", "detail": reason})
        await self.close(code=CLOSE_UNAUTHENTICATED)

    def _close_after(self, seconds: float, reason: str) -> asyncio.Task[None]:
        async def close() -> None:
            await asyncio.sleep(max(0.0, seconds))
            await self._close_unauthenticated(reason)

        return asyncio.ensure_future(close())

    # --- subscriptions ---------------------------------------------------------------

    async def _parsed(self, text: object) -> Topic | None:
        """The topic, or None once the client is told why not."""
        try:
            return Topic.parse(text)
        except TopicError as error:
            await self._error("invalid_topic", str(error), topic=text)
            return None

    async def _on_subscribe(self, text: object) -> None:
        topic = await self._parsed(text)
        if topic is None:
            return
        if str(topic) in self.topics:
            await self.send_json({"type": "subscribed", "topic": str(topic)})
            return
        if len(self.topics) >= MAX_SUBSCRIPTIONS:
            await self._error(
                "too_many_subscriptions", f"at most {MAX_SUBSCRIPTIONS} topics", topic=text
            )
            return
        refusal = await database_sync_to_async(self._refusal)(topic)
        if refusal:
            await self._error(*refusal, topic=text)
            return
        watched = interest_module.interest()
        try:
            await self.channel_layer.group_add(topic.group, self.channel_name)
            await watched.announce([topic.group])
        except Exception:  # Redis unreachable, say
            logger.warning("live updates: subscribing to %s failed", topic, exc_info=True)
            await self._error("unavailable", "live updates are unavailable; try again", topic=text)
            return
        self.topics[str(topic)] = topic
        if self._renewal is None:
            self._renewal = asyncio.ensure_future(self._renew_announcements())
        if watched.shared:
            # Publishers re-read the subscriptions this often: from the
            # answer on, every event of the topic reaches this client.
            await asyncio.sleep(interest_module.REFRESH_SECONDS)
        await self.send_json({"type": "subscribed", "topic": str(topic)})

    def _refusal(self, topic: Topic) -> tuple[str, str] | None:
        assert self.user is not None
        if not self.user.is_active:
            return ("forbidden", "the account is inactive")
        if not self.user.has_perm(topic.permission):
            return ("forbidden", f"needs the permission {topic.permission}")
        scoped = is_scoped(self.user)
        if scoped and not topic.key:
            # Such a topic carries every charger's events.
            return ("forbidden", f"your role sees its own chargers only: not {topic.kind!r}")
        # What the user may not see answers like what does not exist.
        chargers = scope_queryset(ChargePoint.objects.all(), self.user)
        if (topic.kind == "charger" or (scoped and topic.kind == "frames")) and not (
            chargers.filter(id=topic.key).exists()
        ):
            return ("not_found", f"no charger {topic.key!r}")
        sessions = scope_queryset(Transaction.objects.all(), self.user)
        if topic.kind == "transaction" and not (
            topic.key.isdigit() and sessions.filter(id=int(topic.key)).exists()
        ):
            return ("not_found", f"no transaction {topic.key!r}")
        return None

    async def _on_unsubscribe(self, text: object) -> None:
        topic = await self._parsed(text)
        if topic is None:
            return
        if self.topics.pop(str(topic), None) is not None:
            await self.channel_layer.group_discard(topic.group, self.channel_name)
            # A later subscription starts counting afresh.
            for key in [key for key in self._received if key[0] == topic.group]:
                del self._received[key]
        await self.send_json({"type": "unsubscribed", "topic": str(topic)})

    async def _renew_announcements(self) -> None:
        while True:
            await asyncio.sleep(interest_module.RENEW_SECONDS)
            with contextlib.suppress(Exception):
                await interest_module.interest().announce(
                    [topic.group for topic in self.topics.values()]
                )

    async def _error(self, error: str, detail: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "error": error, "detail": detail, **extra})
