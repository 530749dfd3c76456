"""OCPP 2.1: a 2.1 charger is served by the 2.0.1 handlers for every message
the two versions share (2.1 only adds optional fields to them, which the
handlers read where the domain has a use for them: V2X charging needs, a
session's operation mode). Payloads are validated against the 2.1 schemas."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import NotImplementedError as OcppNotImplementedError
from ocpp.exceptions import NotSupportedError
from ocpp.v21 import call, call_result
from ocpp.v21.enums import Action

from commands.catalog import OCPP21
from csms.v201.charge_point import ChargePoint201


class ChargePoint21(ChargePoint201):
    ocpp_version = OCPP21
    # The library's 2.1 classes: its calls, answers and schemas.
    _call = call
    _call_result = call_result
    _ocpp_version = OCPP21

    async def _handle_call(self, msg: Any) -> None:
        # The library (2.1.0) leaves a 2.1 call without a handler unanswered;
        # OCPP-J wants a CallError, so that the charger need not time out.
        if msg.action not in self.route_map:
            try:
                Action(msg.action)
            except ValueError:
                raise NotSupportedError(
                    details={"cause": f"{msg.action} is not an OCPP 2.1 action."}
                ) from None
            raise OcppNotImplementedError(
                details={"cause": f"This CSMS does not handle {msg.action}."}
            )
        await super()._handle_call(msg)
