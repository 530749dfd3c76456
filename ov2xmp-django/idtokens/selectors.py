"""Reads on id tokens: the one place that decides whether a token may charge,
for Authorize and transaction start in every OCPP version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.db import first_row
from idtokens.models import IdToken, IdTokenStatus, IdTokenType
from transactions.models import Transaction, TransactionStatus

CONCURRENT_TX = "ConcurrentTx"
# A prepaid driver without credit (OCPP 2.0.1; 1.6 says Blocked).
NO_CREDIT = "NoCredit"


@dataclass(frozen=True)
class Authorization:
    """The answer for one token: an OCPP AuthorizationStatus value (Accepted,
    Blocked, Expired, Invalid, ConcurrentTx, NoCredit) with its expiry and group."""

    status: str
    id_token: IdToken | None = None
    expires_at: datetime | None = None
    parent_value: str | None = None
    parent_type: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == IdTokenStatus.ACCEPTED

    @property
    def known(self) -> bool:
        """False for a token the platform has never heard of (OCPP 2.0.1
        answers ``Unknown`` where 1.6 answers ``Invalid``)."""
        return self.id_token is not None or self.status != IdTokenStatus.INVALID


def idtoken_find(*, value: str, type: str | None = None) -> IdToken | None:
    """The token presented (the first recorded, if several share the value).

    Every StartTransaction and Authorize asks this: in plain SQL on one table
    (``first_row``), which costs the csms a sixth of the same query built by
    the ORM with the parent and owner joined (docs/performance.md). Those two
    are loaded when used, and only tokens that have them have them to load."""
    where = {"value": value} if type is None else {"value": value, "type": type}
    return first_row(IdToken, where=where)


def idtoken_authorize(
    *,
    value: str,
    type: str | None = None,
    at: datetime,
    check_concurrency: bool = True,
    exclude_transaction_id: int | None = None,
) -> Authorization:
    """Decide the authorization status of a presented token at time ``at``.

    ``check_concurrency`` is off for a token that ends a session;
    ``exclude_transaction_id`` leaves the transaction being started out of the
    concurrency check.
    """
    if type == IdTokenType.NO_AUTHORIZATION:
        # OCPP 2.0.1: the charger needs no authorization (free vend, plug and charge
        # without a token); there is nothing to look up.
        return Authorization(status=IdTokenStatus.ACCEPTED)
    token = idtoken_find(value=value, type=type)
    if token is None:
        return Authorization(status=IdTokenStatus.INVALID)
    status = token.status
    if status == IdTokenStatus.ACCEPTED and token.expires_at and token.expires_at <= at:
        status = IdTokenStatus.EXPIRED
    if status == IdTokenStatus.ACCEPTED and check_concurrency and _without_credit(token):
        status = NO_CREDIT
    if (
        check_concurrency
        and status == IdTokenStatus.ACCEPTED
        and not token.allow_concurrent_transactions
    ):
        running = Transaction.objects.filter(id_token=token, status=TransactionStatus.ACTIVE)
        if exclude_transaction_id is not None:
            running = running.exclude(pk=exclude_transaction_id)
        if running.exists():
            status = CONCURRENT_TX
    return Authorization(
        status=status,
        id_token=token,
        expires_at=token.expires_at,
        parent_value=token.parent.value if token.parent else None,
        parent_type=token.parent.type if token.parent else None,
    )


def _without_credit(token: IdToken) -> bool:
    """A prepaid driver's token whose balance is used up."""
    from billing.selectors import prepaid_balance

    owner = token.owner
    if owner is None or not owner.prepaid_currency:
        return False
    balance = prepaid_balance(owner)
    return balance is not None and balance <= 0
