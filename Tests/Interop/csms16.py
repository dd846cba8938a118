"""A small OCPP 1.6J Central System on the `ocpp` package, in a background thread, for the
interop tests: it records every message the charge point sends and lets a test send calls."""
import asyncio
import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus


def now_iso():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class CentralSystemChargePoint(ChargePoint):
    """Handlers answering like a permissive CSMS; `csms` decides boot answers and tx ids."""

    csms = None  # set per instance

    def _record(self, action, payload):
        self.csms._record(self.id, action, payload)

    async def route_message(self, raw_msg):
        # Every frame in the order it arrived, answers included: what the wire order was.
        self.csms._record_frame(self.id, raw_msg)
        await super().route_message(raw_msg)

    @on(Action.boot_notification)
    def on_boot(self, charge_point_vendor, charge_point_model, **kw):
        self._record("BootNotification", {"chargePointVendor": charge_point_vendor,
                                          "chargePointModel": charge_point_model, **kw})
        status, interval = self.csms.next_boot_answer()
        return call_result.BootNotification(current_time=now_iso(), interval=interval, status=status)

    @on(Action.heartbeat)
    def on_heartbeat(self, **kw):
        self._record("Heartbeat", kw)
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    def on_status(self, connector_id, error_code, status, **kw):
        self._record("StatusNotification", {"connectorId": connector_id, "errorCode": error_code,
                                            "status": status, **kw})
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag, **kw):
        self._record("Authorize", {"idTag": id_tag})
        return call_result.Authorize(id_tag_info=self.csms.id_tag_info(id_tag))

    @on(Action.start_transaction)
    def on_start(self, connector_id, id_tag, meter_start, timestamp, **kw):
        tx = self.csms.new_transaction_id()
        self._record("StartTransaction", {"connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start,
                                          "timestamp": timestamp, "assignedTransactionId": tx, **kw})
        info = self.csms.id_tag_info(id_tag, accepted=id_tag not in self.csms.blocked_at_start)
        if id_tag in self.csms.blocked_at_start:
            info["status"] = AuthorizationStatus.blocked
        return call_result.StartTransaction(transaction_id=tx, id_tag_info=info)

    @on(Action.stop_transaction)
    def on_stop(self, meter_stop, timestamp, transaction_id, **kw):
        self._record("StopTransaction", {"meterStop": meter_stop, "timestamp": timestamp,
                                         "transactionId": transaction_id, **kw})
        return call_result.StopTransaction()

    @on(Action.security_event_notification)
    def on_security_event(self, type, timestamp, **kw):
        self._record("SecurityEventNotification", {"type": type, "timestamp": timestamp, **kw})
        return call_result.SecurityEventNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, status, **kw):
        self._record("FirmwareStatusNotification", {"status": status})
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status(self, status, **kw):
        self._record("DiagnosticsStatusNotification", {"status": status})
        return call_result.DiagnosticsStatusNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status(self, status, **kw):
        self._record("SignedFirmwareStatusNotification", {"status": status, "requestId": kw.get("request_id")})
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status(self, status, **kw):
        self._record("LogStatusNotification", {"status": status, "requestId": kw.get("request_id")})
        return call_result.LogStatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, connector_id, meter_value, **kw):
        # The ocpp package hands nested members over in snake_case (sampled_value).
        self._record("MeterValues", {"connectorId": connector_id, "meterValue": meter_value,
                                     "transactionId": kw.get("transaction_id")})
        return call_result.MeterValues()


class CentralSystem:
    """Serves ws://127.0.0.1:<port>/<identity> with subprotocol ocpp1.6."""

    def __init__(self, boot_answers=None, port=0):
        # A list of (status, interval); the last one repeats.
        self.boot_answers = list(boot_answers or [(RegistrationStatus.accepted, 300)])
        self.boot_count = 0
        self.messages = []  # (monotonic time, identity, action, payload)
        self.frames = []  # (identity, raw text) of every inbound frame, in arrival order
        self.lock = threading.Lock()
        self.next_tx = 1000
        self.charge_points = {}
        self.unknown_tags = set()
        self.blocked_at_start = set()  # id tags whose StartTransaction is answered Blocked
        self.expires_in = {}  # id tag -> seconds: its idTagInfo carries expiryDate = answer time + that
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.port = port
        self._connections = set()
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        started.wait(10)

    # -- server ---------------------------------------------------------------
    def _run(self, started):
        asyncio.set_event_loop(self.loop)

        async def main():
            self.server = await websockets.serve(self._on_connect, "127.0.0.1", self.port, subprotocols=["ocpp1.6"])
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()

        self.loop.run_until_complete(main())
        self.loop.run_forever()

    async def _on_connect(self, websocket):
        identity = websocket.request.path.strip("/")
        cp = CentralSystemChargePoint(identity, websocket)
        cp.csms = self
        self.charge_points[identity] = cp
        self._connections.add(websocket)
        try:
            await cp.start()
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            self._connections.discard(websocket)
            if self.charge_points.get(identity) is cp:
                del self.charge_points[identity]

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}"

    def stop(self):
        if not self.loop.is_running():
            return

        async def shutdown():
            self.server.close()
            for ws in list(self._connections):
                await ws.close()
            # The connection handlers finish before the loop stops (else they end without one).
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def drop_connections(self):
        """Closes every charge point's socket (the charge point reconnects)."""
        async def close():
            for ws in list(self._connections):
                await ws.close()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)

    # -- behaviour ------------------------------------------------------------
    def next_boot_answer(self):
        with self.lock:
            answer = self.boot_answers[min(self.boot_count, len(self.boot_answers) - 1)]
            self.boot_count += 1
            return answer

    def new_transaction_id(self):
        with self.lock:
            self.next_tx += 1
            return self.next_tx

    def authorize_status(self, id_tag):
        return AuthorizationStatus.invalid if id_tag in self.unknown_tags else AuthorizationStatus.accepted

    def id_tag_info(self, id_tag, accepted=False):
        info = {"status": AuthorizationStatus.accepted if accepted else self.authorize_status(id_tag)}
        if id_tag in self.expires_in:
            expiry = datetime.now(timezone.utc) + timedelta(seconds=self.expires_in[id_tag])
            info["expiry_date"] = expiry.isoformat().replace("+00:00", "Z")
        return info

    def _record_frame(self, identity, raw):
        with self.lock:
            self.frames.append((identity, raw))

    def inbound_frames(self):
        """The parsed frames the charge points sent, in arrival order."""
        with self.lock:
            return [json.loads(raw) for (_, raw) in self.frames]

    def _record(self, identity, action, payload):
        with self.lock:
            self.messages.append((time.monotonic(), identity, action, payload))

    def received(self, action=None):
        with self.lock:
            return [(t, a, p) for (t, _, a, p) in self.messages if action is None or a == action]

    def wait_for(self, action, count=1, timeout=15.0, where=lambda p: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [p for (_, a, p) in self.received(action) if where(p)]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"CSMS: fewer than {count} {action} within {timeout}s; got "
                             f"{[a for (_, a, _) in self.received()]}")

    def wait_connected(self, identity, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if identity in self.charge_points:
                return self.charge_points[identity]
            time.sleep(0.02)
        raise AssertionError(f"{identity} did not connect within {timeout}s")

    # -- CSMS → charge point --------------------------------------------------
    def call(self, identity, payload, timeout=10.0):
        """Sends a call from ocpp.v16.call; returns the call_result (raises on a CallError)."""
        cp = self.wait_connected(identity)
        return asyncio.run_coroutine_threadsafe(cp.call(payload, suppress=False), self.loop).result(timeout)

    def raw_call(self, identity, action, payload, timeout=10.0, unique_id=None):
        """Sends [2, id, action, payload] without validation; returns (message_type_id, answer) where
        answer is the payload of a CALLRESULT or (error_code, description) of a CALLERROR."""
        cp = self.wait_connected(identity)
        unique_id = unique_id or str(uuid.uuid4())
        text = json.dumps([2, unique_id, action, payload])

        async def go():
            async with cp._call_lock:
                sent_at = time.monotonic()
                await cp._send(text)
                response = await cp._get_specific_response(unique_id, timeout)
                return response, time.monotonic() - sent_at

        response, _ = asyncio.run_coroutine_threadsafe(go(), self.loop).result(timeout + 1)
        if response.message_type_id == 4:
            return 4, (response.error_code, response.error_description)
        return 3, response.payload

    def timed_raw_call(self, identity, action, payload, timeout=10.0):
        """Like raw_call, also returns the seconds from send to answer as the CSMS sees them."""
        cp = self.wait_connected(identity)
        unique_id = str(uuid.uuid4())
        text = json.dumps([2, unique_id, action, payload])

        async def go():
            async with cp._call_lock:
                sent_at = time.perf_counter()
                await cp._send(text)
                response = await cp._get_specific_response(unique_id, timeout)
                return response, time.perf_counter() - sent_at

        response, seconds = asyncio.run_coroutine_threadsafe(go(), self.loop).result(timeout + 1)
        return response, seconds
