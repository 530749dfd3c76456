"""The OCPP 2.0.1 charger of the fleet (fleet.py): the same mix as the 1.6
one, in 2.0.1's messages. A transaction is a series of TransactionEvents
(Started, Updated with the meter values, Ended) under an id the charger
chooses, numbered by ``seqNo``."""

from __future__ import annotations

import random
import uuid
from typing import Any

from fleet import Charger, now

ENERGY = "Energy.Active.Import.Register"
ID_TOKEN = {"idToken": "BENCH", "type": "ISO14443"}
EVSE = {"id": 1, "connectorId": 1}
# How a transaction ends, picked at random: the driver stops it, or unplugs.
END_TRIGGERS = ("StopAuthorized", "EVDeparted")


class Charger201(Charger):
    """One OCPP 2.0.1 charger (see Charger). Its message kinds are named
    apart in the results, e.g. ``TransactionEvent(Updated)``, so that the
    frequent meter values read apart from starts and ends."""

    subprotocol = "ocpp2.0.1"
    kinds = {
        "start": "TransactionEvent(Started)",
        "stop": "TransactionEvent(Ended)",
        "meter values": "TransactionEvent(Updated)",
    }
    transaction: int | str | None  # as Charger has it: a 2.0.1 id is a str

    def __init__(self, url: str, charger_id: str) -> None:
        super().__init__(url, charger_id)
        self.seq_no = 0  # of the next TransactionEvent in this transaction

    def boot_notification(self) -> dict[str, Any]:
        return {"reason": "PowerUp", "chargingStation": {"model": "Load", "vendorName": "Bench"}}

    def status_notification(self) -> dict[str, Any]:
        return {"timestamp": now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1}

    def energy_reading(self, context: str) -> list[dict[str, Any]]:
        """The meter register as a one-sample ``meterValue``: the reading at
        the start or the end of the transaction."""
        sample = {
            "value": self.meter,
            "context": context,
            "measurand": ENERGY,
            "unitOfMeasure": {"unit": "Wh"},
        }
        return [{"timestamp": now(), "sampledValue": [sample]}]

    def transaction_event(
        self,
        event_type: str,
        trigger_reason: str,
        info: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A TransactionEvent of the current transaction, the next in its
        sequence. ``info``: ``transactionInfo`` beyond the id; ``fields``:
        further fields, named as sent."""
        assert self.transaction is not None
        event = {
            "eventType": event_type,
            "timestamp": now(),
            "triggerReason": trigger_reason,
            "seqNo": self.seq_no,
            "transactionInfo": {"transactionId": self.transaction} | (info or {}),
        } | fields
        self.seq_no += 1
        return event

    def transaction_started(self) -> dict[str, Any]:
        """A new transaction, with an id of the charger's choosing."""
        self.transaction = str(uuid.uuid4())
        self.seq_no = 0
        return self.transaction_event(
            "Started",
            "Authorized",
            info={"chargingState": "Charging"},
            evse=EVSE,
            idToken=ID_TOKEN,
            meterValue=self.energy_reading("Transaction.Begin"),
        )

    def transaction_updated(self) -> dict[str, Any]:
        """The periodic meter values: two samples, numbers (not strings as
        in 1.6)."""
        self.meter += random.randint(1, 50)
        sampled = [
            {"value": self.meter, "measurand": ENERGY, "unitOfMeasure": {"unit": "Wh"}},
            {"value": 7200, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
        ]
        meter_value = [{"timestamp": now(), "sampledValue": sampled}]
        return self.transaction_event("Updated", "MeterValuePeriodic", meterValue=meter_value)

    def transaction_ended(self) -> dict[str, Any]:
        return self.transaction_event(
            "Ended",
            random.choice(END_TRIGGERS),
            info={"stoppedReason": "Local"},
            meterValue=self.energy_reading("Transaction.End"),
        )

    async def start_transaction(self) -> None:
        await self.call("TransactionEvent", self.transaction_started())

    async def stop_transaction(self) -> None:
        await self.call("TransactionEvent", self.transaction_ended())
        self.transaction = None

    async def meter_values(self) -> None:
        await self.call("TransactionEvent", self.transaction_updated())
