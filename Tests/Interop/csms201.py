"""A small OCPP 2.0.1 CSMS on the `ocpp` package's v201 classes, in a background thread, for the
interop tests: it records every CALL the charging station sends (its payload as on the wire,
camelCase) and lets a test send calls, typed or raw."""
import asyncio
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from http import HTTPStatus

import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result


def now_iso():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class CsmsSideOfStation(ChargePoint):
    """Answers like a permissive CSMS; `csms` decides the boot answers and token verdicts."""

    csms = None  # set per instance

    async def route_message(self, raw_msg):
        # Every frame in the order it arrived; a CALL's payload recorded as sent (camelCase).
        self.csms._record_frame(self.id, raw_msg)
        try:
            frame = json.loads(raw_msg)
        except ValueError:
            frame = None
        if isinstance(frame, list) and len(frame) == 4 and frame[0] == 2:
            self.csms._record(self.id, frame[2], frame[3])
        await super().route_message(raw_msg)

    @on("BootNotification")
    def on_boot(self, **kw):
        status, interval = self.csms.next_boot_answer()
        return call_result.BootNotification(current_time=now_iso(), interval=interval, status=status)

    @on("Heartbeat")
    def on_heartbeat(self, **kw):
        return call_result.Heartbeat(current_time=now_iso())

    @on("StatusNotification")
    def on_status(self, **kw):
        return call_result.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_token, **kw):
        return call_result.Authorize(id_token_info=self.csms.token_info(id_token["id_token"]))

    @on("TransactionEvent")
    def on_transaction_event(self, **kw):
        if self.csms.transaction_event_answer is not None:
            return call_result.TransactionEvent(**self.csms.transaction_event_answer(kw))
        token = kw.get("id_token")
        if token and kw.get("event_type") == "Started":
            return call_result.TransactionEvent(id_token_info={"status": self.csms.token_status(token["id_token"])})
        return call_result.TransactionEvent()

    @on("NotifyDisplayMessages")
    def on_notify_display_messages(self, **kw):
        return call_result.NotifyDisplayMessages()

    @on("MeterValues")
    def on_meter_values(self, **kw):
        return call_result.MeterValues()

    @on("SecurityEventNotification")
    def on_security_event(self, **kw):
        return call_result.SecurityEventNotification()

    @on("ReportChargingProfiles")
    def on_report_charging_profiles(self, **kw):
        return call_result.ReportChargingProfiles()

    @on("FirmwareStatusNotification")
    def on_firmware_status(self, **kw):
        return call_result.FirmwareStatusNotification()

    @on("LogStatusNotification")
    def on_log_status(self, **kw):
        return call_result.LogStatusNotification()

    @on("ReservationStatusUpdate")
    def on_reservation_status(self, **kw):
        return call_result.ReservationStatusUpdate()

    @on("NotifyReport")
    def on_notify_report(self, **kw):
        return call_result.NotifyReport()

    @on("NotifyMonitoringReport")
    def on_notify_monitoring_report(self, **kw):
        return call_result.NotifyMonitoringReport()

    @on("NotifyEvent")
    def on_notify_event(self, **kw):
        return call_result.NotifyEvent()

    @on("NotifyChargingLimit")
    def on_notify_charging_limit(self, **kw):
        return call_result.NotifyChargingLimit()

    @on("ClearedChargingLimit")
    def on_cleared_charging_limit(self, **kw):
        return call_result.ClearedChargingLimit()

    @on("SignCertificate")
    def on_sign_certificate(self, **kw):
        # Accepted: the test signs the CSR (recorded as sent) and answers with CertificateSigned.
        return call_result.SignCertificate(status="Accepted")


class Csms201:
    """Serves ws://127.0.0.1:<port>/<identity>, selecting the first of `subprotocols` the
    station offers."""

    def __init__(self, boot_answers=None, subprotocols=("ocpp2.0.1",), port=0, ssl_context=None, expected_auth=None):
        """`ssl_context`: serve wss:// with it; `expected_auth`: refuse (401) a handshake whose
        Authorization header is not this."""
        self.ssl_context = ssl_context
        self.expected_auth = expected_auth
        self.auth_seen = []
        self.client_serials = []
        self.boot_answers = list(boot_answers or [("Accepted", 300)])  # (status, interval); the last repeats
        self.boot_count = 0
        self.subprotocols = list(subprotocols)
        self.selected = []  # the subprotocol of every connection, in order
        self.messages = []  # (monotonic time, identity, action, payload)
        self.frames = []
        self.unknown_tokens = set()
        self.groups = {}  # token -> its group's token (idTokenInfo.groupIdToken)
        self.token_extras = {}  # token -> more idTokenInfo fields (personal_message, language1, …)
        self.transaction_event_answer = None  # kw -> the TransactionEvent answer's fields, when set
        self.lock = threading.Lock()
        self.stations = {}
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.port = port
        self._connections = set()
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        started.wait(10)

    def _select(self, connection, offered):
        for p in self.subprotocols:
            if p in offered:
                return p
        return None

    def _run(self, started):
        asyncio.set_event_loop(self.loop)

        async def main():
            self.server = await websockets.serve(self._on_connect, "127.0.0.1", self.port, subprotocols=self.subprotocols,
                                                 select_subprotocol=self._select, ssl=self.ssl_context,
                                                 process_request=self._check_auth)
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()

        self.loop.run_until_complete(main())
        self.loop.run_forever()

    def _check_auth(self, connection, request):
        header = request.headers.get("Authorization")
        self.auth_seen.append(header)
        if self.expected_auth is not None and header != self.expected_auth:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad credentials\n")
        return None

    async def _on_connect(self, websocket):
        ssl_object = websocket.transport.get_extra_info("ssl_object")
        peer = ssl_object.getpeercert() if ssl_object else None
        self.client_serials.append(peer.get("serialNumber") if peer else None)
        identity = websocket.request.path.strip("/")
        with self.lock:
            self.selected.append(websocket.subprotocol)
        if websocket.subprotocol != "ocpp2.0.1":
            await websocket.close()
            return
        cs = CsmsSideOfStation(identity, websocket)
        cs.csms = self
        self.stations[identity] = cs
        self._connections.add(websocket)
        try:
            await cs.start()
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            self._connections.discard(websocket)
            if self.stations.get(identity) is cs:
                del self.stations[identity]

    @property
    def url(self):
        return f"wss://localhost:{self.port}" if self.ssl_context else f"ws://127.0.0.1:{self.port}"

    def stop(self):
        if not self.loop.is_running():
            return

        async def shutdown():
            self.server.close()
            for ws in list(self._connections):
                await ws.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    # -- behaviour ------------------------------------------------------------
    def next_boot_answer(self):
        with self.lock:
            answer = self.boot_answers[min(self.boot_count, len(self.boot_answers) - 1)]
            self.boot_count += 1
            return answer

    def token_status(self, token):
        return "Invalid" if token in self.unknown_tokens else "Accepted"

    def token_info(self, token):
        """idTokenInfo (snake_case for the ocpp package): the status, and the group of a token in `groups`."""
        info = {"status": self.token_status(token)}
        if token in self.groups:
            info["group_id_token"] = {"id_token": self.groups[token], "type": "Central"}
        info.update(self.token_extras.get(token, {}))
        return info

    def _record_frame(self, identity, raw):
        with self.lock:
            self.frames.append((identity, raw))

    def _record(self, identity, action, payload):
        with self.lock:
            self.messages.append((time.monotonic(), identity, action, payload))

    def received(self, action=None):
        with self.lock:
            return [p for (_, _, a, p) in self.messages if action is None or a == action]

    def actions(self):
        with self.lock:
            return [a for (_, _, a, _) in self.messages]

    def wait_for(self, action, count=1, timeout=15.0, where=lambda p: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [p for p in self.received(action) if where(p)]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"CSMS: fewer than {count} {action} within {timeout}s; got {self.actions()}")

    def wait_connected(self, identity, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if identity in self.stations:
                return self.stations[identity]
            time.sleep(0.02)
        raise AssertionError(f"{identity} did not connect within {timeout}s")

    # -- CSMS → charging station ----------------------------------------------
    def call(self, identity, payload, timeout=10.0):
        """Sends a call from ocpp.v201.call; returns the call_result (raises on a CallError)."""
        cs = self.wait_connected(identity)
        return asyncio.run_coroutine_threadsafe(cs.call(payload, suppress=False), self.loop).result(timeout)

    def raw_call(self, identity, action, payload, timeout=10.0):
        """Sends [2, id, action, payload] without validation; returns (3, payload) for a CALLRESULT or
        (4, (errorCode, description)) for a CALLERROR."""
        return self.raw_frame(identity, lambda unique_id: json.dumps([2, unique_id, action, payload]), timeout)

    def raw_frame(self, identity, make_text, timeout=10.0):
        """Sends the text `make_text(unique_id)` and waits for the answer carrying that id."""
        cs = self.wait_connected(identity)
        unique_id = str(uuid.uuid4())
        text = make_text(unique_id)

        async def go():
            async with cs._call_lock:
                await cs._send(text)
                return await cs._get_specific_response(unique_id, timeout)

        response = asyncio.run_coroutine_threadsafe(go(), self.loop).result(timeout + 1)
        if response.message_type_id == 4:
            return 4, (response.error_code, response.error_description)
        return 3, response.payload
