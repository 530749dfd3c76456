"""OCPP 2.1: a 2.1 charger is served by the 2.0.1 handlers for every message
the two versions share (2.1 only adds optional fields to them, which the
handlers read where the domain has a use for them: V2X charging needs, a
session's operation mode). Payloads are validated against the 2.1 schemas."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import NotImplementedError as OcppNotImplementedError
from ocpp.exceptions import NotSupportedError
from ocpp.routing import on
from ocpp.v21 import call, call_result
from ocpp.v21.datatypes import ChargingScheduleUpdateType, StatusInfoType
from ocpp.v21.enums import Action, ChargingProfileStatusEnumType, EnergyTransferModeEnumType

from commands.catalog import OCPP21
from core.time import utc_now
from csms.charge_point import db
from csms.v201.charge_point import ChargePoint201
from csms.v201.translate import id_token_info, when
from idtokens.selectors import idtoken_authorize
from smartcharging.models import DerEventKind
from smartcharging.selectors import dynamic_schedule_update
from smartcharging.services import der_event_record

# What a token that may not discharge is allowed (V2X authorization, Q01):
# every transfer mode but the bidirectional ones (AC_BPT, DC_BPT, …).
CHARGING_ONLY = [mode.value for mode in EnergyTransferModeEnumType if "BPT" not in mode.value]


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

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        """As 2.0.1, and for a token that may not discharge, the transfer
        modes it is allowed: charging only."""
        authorization = await db(idtoken_authorize)(
            value=id_token["id_token"], type=id_token["type"], at=utc_now()
        )
        token = authorization.id_token
        return call_result.Authorize(
            id_token_info=id_token_info(authorization),  # type: ignore[arg-type]
            allowed_energy_transfer=(
                CHARGING_ONLY if token is not None and not token.may_discharge else None
            ),
        )

    @on(Action.pull_dynamic_schedule_update)
    async def on_pull_dynamic_schedule_update(
        self, charging_profile_id: int, **_: Any
    ) -> call_result.PullDynamicScheduleUpdate:
        """A charger in dynamic control asks what its profile says now."""
        update = await db(dynamic_schedule_update)(
            charge_point_id=self.id, profile_id=charging_profile_id, at=utc_now()
        )
        if update is None:
            return call_result.PullDynamicScheduleUpdate(
                status=ChargingProfileStatusEnumType.rejected,
                status_info=StatusInfoType(
                    reason_code="UnknownProfile",
                    additional_info="No profile of this id from the CSMS is in force.",
                ),
            )
        return call_result.PullDynamicScheduleUpdate(
            status=ChargingProfileStatusEnumType.accepted,
            schedule_update=ChargingScheduleUpdateType(**update),
        )

    @on(Action.notify_der_alarm)
    async def on_notify_der_alarm(
        self,
        control_type: str,
        timestamp: str,
        grid_event_fault: str = "",
        alarm_ended: bool | None = None,
        extra_info: str = "",
        **_: Any,
    ) -> call_result.NotifyDERAlarm:
        await db(der_event_record)(
            charge_point_id=self.id,
            kind=DerEventKind.ALARM,
            timestamp=when(timestamp),
            control_type=control_type,
            grid_event_fault=grid_event_fault,
            alarm_ended=alarm_ended,
            details={"extra_info": extra_info} if extra_info else {},
        )
        return call_result.NotifyDERAlarm()

    @on(Action.notify_der_start_stop)
    async def on_notify_der_start_stop(
        self,
        control_id: str,
        started: bool,
        timestamp: str,
        superseded_ids: list[str] | None = None,
        **_: Any,
    ) -> call_result.NotifyDERStartStop:
        await db(der_event_record)(
            charge_point_id=self.id,
            kind=DerEventKind.STARTED if started else DerEventKind.STOPPED,
            timestamp=when(timestamp),
            control_id=control_id,
            details={"superseded_ids": superseded_ids} if superseded_ids else {},
        )
        return call_result.NotifyDERStartStop()

    @on(Action.report_der_control)
    async def on_report_der_control(
        self, request_id: int, tbc: bool = False, **controls: Any
    ) -> call_result.ReportDERControl:
        # Kept as reported, one row per part: the platform has no model of
        # DER curves (ADR 0022); the parts of one request share its id.
        controls.pop("custom_data", None)
        await db(der_event_record)(
            charge_point_id=self.id,
            kind=DerEventKind.REPORT,
            timestamp=utc_now(),
            request_id=request_id,
            details={"tbc": tbc, **controls},
        )
        return call_result.ReportDERControl()
