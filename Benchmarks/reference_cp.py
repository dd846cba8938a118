"""The reference peer of Benchmarks/compare.py: an OCPP 1.6 charge point on the `ocpp` Python
package (the one EVerest's tests use), doing what evsed does in the same run so that their CPU
and memory can be compared side by side on one machine:

- BootNotification, then Heartbeat every HeartbeatInterval;
- GetConfiguration answered from as many keys as evsed reports (the keys are given on the
  command line, read from evsed's own GetConfiguration answer), ChangeConfiguration stored;
- RemoteStartTransaction: StartTransaction, then MeterValues every MeterValueSampleInterval with
  the same measurands evsed samples, until RemoteStopTransaction.

    python Benchmarks/reference_cp.py ws://127.0.0.1:9000 PYCP keys.json

It is a peer for measurement, not a charger: nothing here drives hardware.
"""
import asyncio
import json
import sys
from datetime import datetime, timezone

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (Action, ConfigurationStatus, RegistrationStatus, RemoteStartStopStatus)


def now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class ReferenceChargePoint(ChargePoint):
    def __init__(self, identity, connection, keys):
        super().__init__(identity, connection)
        self.keys = {k["key"]: dict(k) for k in keys}
        self.transaction_id = None
        self.meter_wh = 1000.0
        self.metering = None

    def setting(self, key, default):
        try:
            return int(self.keys.get(key, {}).get("value", default))
        except ValueError:
            return default

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **kw):
        if key:
            known = [self.keys[k] for k in key if k in self.keys]
            unknown = [k for k in key if k not in self.keys]
            return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)
        return call_result.GetConfiguration(configuration_key=list(self.keys.values()))

    @on(Action.change_configuration)
    def on_change_configuration(self, key, value, **kw):
        if key not in self.keys or self.keys[key].get("readonly"):
            return call_result.ChangeConfiguration(status=ConfigurationStatus.rejected)
        self.keys[key]["value"] = value
        return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag, connector_id=None, **kw):
        asyncio.get_running_loop().create_task(self.charge(id_tag))
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id, **kw):
        if self.metering:
            self.metering.cancel()
        return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.accepted)

    async def charge(self, id_tag):
        answer = await self.call(call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=int(self.meter_wh),
                                                       timestamp=now()))
        self.transaction_id = answer.transaction_id
        self.metering = asyncio.get_running_loop().create_task(self.meter_values())

    async def meter_values(self):
        while True:
            await asyncio.sleep(max(1, self.setting("MeterValueSampleInterval", 5)))
            self.meter_wh += 30.6  # 22 kW for 5 s
            sampled = [{"value": f"{self.meter_wh:.1f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                       {"value": "22080.0", "measurand": "Power.Active.Import", "unit": "W"}]
            sampled += [{"value": "32.0", "measurand": "Current.Import", "phase": p, "unit": "A"}
                        for p in ("L1", "L2", "L3")]
            await self.call(call.MeterValues(connector_id=1, transaction_id=self.transaction_id,
                                             meter_value=[{"timestamp": now(), "sampled_value": sampled}]))

    async def boot_and_heartbeat(self):
        answer = await self.call(call.BootNotification(charge_point_vendor="Reference", charge_point_model="python-ocpp"))
        interval = answer.interval if answer.status == RegistrationStatus.accepted else 60
        while True:
            await asyncio.sleep(max(1, self.setting("HeartbeatInterval", interval)))
            await self.call(call.Heartbeat())


async def main(url, identity, keys_file):
    with open(keys_file) as f:
        keys = json.load(f)
    async with websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"]) as ws:
        cp = ReferenceChargePoint(identity, ws, keys)
        await asyncio.gather(cp.start(), cp.boot_and_heartbeat())


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
