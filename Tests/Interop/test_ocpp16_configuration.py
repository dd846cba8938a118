"""OCPP 1.6J configuration end to end: every read-write key changed, read back and still there
after a restart; the station file's backend section and the frame log; security events owed
across restarts. evse-sim + evsed as processes, a CSMS on the `ocpp` package."""
import sqlite3

from ocpp.v16 import call

from ocpp16_support import IDENTITY, boot_accepted, csms, data_dir, station, wait_for  # noqa: F401 (fixtures)

# A new valid value for every read-write key, what ChangeConfiguration answers, and a value
# that must be refused. A key the charge point adds without a row here fails the test.
READ_WRITE = {
    "AllowOfflineTxForUnknownId": ("true", "Accepted", "yes"),
    "AuthorizationCacheEnabled": ("false", "Accepted", "0"),
    "AuthorizeRemoteTxRequests": ("true", "Accepted", "maybe"),
    "ClockAlignedDataInterval": ("900", "Accepted", "-1"),
    "ConnectionTimeOut": ("90", "Accepted", "0"),
    "ConnectorPhaseRotation": ("0.RST,1.RTS,2.STR", "Accepted", "1.ABC"),
    "CpoName": ("ACME Charging", "Accepted", "x" * 65),
    "HeartbeatInterval": ("120", "Accepted", "soon"),
    "LocalAuthListEnabled": ("false", "Accepted", "no"),
    "LocalAuthorizeOffline": ("false", "Accepted", "off"),
    "LocalPreAuthorize": ("true", "Accepted", "on"),
    "MaxEnergyOnInvalidId": ("2500", "Accepted", "-1"),
    "MeterValuesAlignedData": ("Energy.Active.Import.Register,Power.Active.Import", "Accepted", "Voltage.Bogus"),
    "MeterValuesSampledData": ("Energy.Active.Import.Register,Current.Import", "Accepted", "Energy"),
    "MeterValueSampleInterval": ("30", "Accepted", "1.5"),
    "MinimumStatusDuration": ("2", "Accepted", "-3"),
    "ResetRetries": ("3", "Accepted", "many"),
    "SecurityProfile": ("0", "Accepted", "7"),
    "StopTransactionOnEVSideDisconnect": ("false", "Accepted", "nope"),
    "StopTransactionOnInvalidId": ("false", "Accepted", "2"),
    "StopTxnAlignedData": ("Energy.Active.Import.Register", "Accepted", "Energy.Active.Import.Register,Nope"),
    "StopTxnSampledData": ("Energy.Active.Import.Register,Power.Active.Import", "Accepted", "Power"),
    "TransactionMessageAttempts": ("5", "Accepted", "0"),
    "TransactionMessageRetryInterval": ("30", "Accepted", "later"),
    "UnlockConnectorOnEVSideDisconnect": ("false", "Accepted", "n"),
    "WebSocketPingInterval": ("30", "Accepted", "-5"),
    # California Pricing (the OCA application note).
    "CustomDisplayCostAndPrice": ("false", "Accepted", "maybe"),
    "DefaultPrice": ('{"priceText": "0.30 $/kWh"}', "Accepted", "0.30 $/kWh"),
    "DefaultPriceText,en": ('{"priceText": "0.30 $/kWh", "priceTextOffline": "Offline 0.30 $/kWh"}', "Accepted", "{}"),
    "DefaultPriceText,de": ('{"priceText": "0,30 €/kWh"}', "Accepted", '{"priceText": 3}'),
    "DefaultPriceText,fr": ('{"priceText": "0,30 €/kWh"}', "Accepted", "[]"),
    "DefaultPriceText,nl": ('{"priceText": "€ 0,30/kWh"}', "Accepted", "prijs"),
    "Language": ("de", "Accepted", "xx"),
    "NextTimeOffsetTransitionDateTime": ("2026-03-29T01:00:00Z", "Accepted", "tomorrow"),
    "NumberOfDecimalsForCostValues": ("3", "Accepted", "9"),
    "TimeOffset": ("+01:00", "Accepted", "1h"),
    "TimeOffsetNextTransition": ("+02:00", "Accepted", "+2"),
}


def owed_startups(data):
    """StartupOfTheDevice events the station's security log still owes the CSMS."""
    db = sqlite3.connect(f"{data}/swiftevse.sqlite")
    try:
        return db.execute("SELECT count(*) FROM security_events WHERE kind = 'StartupOfTheDevice' "
                          "AND notified_at_ms IS NULL").fetchone()[0]
    finally:
        db.close()


def configuration(cs):
    return {k["key"]: k for k in cs.call(IDENTITY, call.GetConfiguration()).configuration_key}


def test_every_read_write_key_is_changed_read_back_and_kept_across_a_restart(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    before = configuration(cs)
    writable = {name for name, k in before.items() if not k["readonly"]}
    assert writable == set(READ_WRITE), f"keys without a row: {writable - set(READ_WRITE)}, rows without a key: {set(READ_WRITE) - writable}"
    assert "AuthorizationKey" not in before, "write-only"

    for name, (value, answer, bad) in READ_WRITE.items():
        assert cs.call(IDENTITY, call.ChangeConfiguration(key=name, value=bad)).status == "Rejected", name
        assert configuration(cs)[name]["value"] == before[name]["value"], f"{name}: a refused value changed it"
        assert cs.call(IDENTITY, call.ChangeConfiguration(key=name, value=value)).status == answer, name
    after = configuration(cs)
    for name, (value, _, _) in READ_WRITE.items():
        assert after[name]["value"] == value, name
    # Read-only keys refuse a change.
    for name in ("NumberOfConnectors", "SupportedFeatureProfiles", "ChargeProfileMaxStackLevel", "CertificateStoreMaxLength"):
        assert cs.call(IDENTITY, call.ChangeConfiguration(key=name, value="1")).status == "Rejected", name

    # A restart: everything is still there.
    assert evsed.terminate() == 0
    again = station(cs.url)
    cs.wait_for("BootNotification", count=2, timeout=20)
    kept = configuration(cs)
    for name, (value, _, _) in READ_WRITE.items():
        # The accepted BootNotification's interval is the heartbeat interval from then on.
        expected = "300" if name == "HeartbeatInterval" else value
        assert kept[name]["value"] == expected, f"{name} after the restart"
    assert again.proc.poll() is None


def test_the_backend_section_connects_without_flags_and_the_frame_log_hides_the_key(sim, station, csms, repo_root, tmp_path):
    cs = csms()
    config = tmp_path / "station.yaml"
    config.write_text((repo_root / "etc" / "station.demo.yaml").read_text() + f"""
backend:
  url: {cs.url}
  identity: CP-FILE-9
  frame_log: {{enabled: true, max_file_kb: 64, files: 2}}
""")
    evsed = station(None, config=config)
    cs.wait_connected("CP-FILE-9")
    cs.wait_for("StatusNotification", count=3)
    key = "0123456789abcdef0123456789abcdef"
    assert cs.call("CP-FILE-9", call.ChangeConfiguration(key="AuthorizationKey", value=key)).status == "Accepted"
    assert cs.call("CP-FILE-9", call.GetConfiguration(key=["HeartbeatInterval"])).configuration_key[0]["value"] == "300"
    # A location with a password (nothing listens there: only the frames matter).
    cs.call("CP-FILE-9", call.GetDiagnostics(location="ftp://evse:Pa55word@127.0.0.1:9/upload/", retries=0))

    log = (tmp_path / "data" / "ocpp-frames.log").read_text()
    lines = log.splitlines()
    assert any(" >> " in l and '"BootNotification"' in l for l in lines), "outbound frames"
    assert any(" << " in l and '"ChangeConfiguration"' in l for l in lines), "inbound frames"
    assert any('"AuthorizationKey"' in l and "***" in l for l in lines), "the change is logged, redacted"
    assert key not in log and key.upper() not in log
    assert "Pa55word" not in log and "ftp://evse:***@127.0.0.1:9/upload/" in log
    assert all(l[:4].isdigit() and l[19] in ".Z" for l in lines), "every line starts with its UTC time"
    assert key not in "\n".join(evsed.log()) and "Pa55word" not in "\n".join(evsed.log()), "nor in the daemon's own log"


def test_security_events_raised_offline_survive_a_kill_and_are_delivered_once(sim, station, csms):
    cs = csms()
    port = cs.port
    cs.stop()  # nothing answers on the port: each start's StartupOfTheDevice stays owed
    first = station(cs.url)
    wait_for(lambda: owed_startups(data_dir(first)) == 1, what="the first start's event on disk")
    first.kill9()
    second = station(cs.url)
    wait_for(lambda: owed_startups(data_dir(second)) == 2, what="the second start's event on disk")

    back = csms(port=port)
    events = back.wait_for("SecurityEventNotification", count=2, timeout=30,
                           where=lambda p: p["type"] == "StartupOfTheDevice")
    assert events[0]["timestamp"] < events[1]["timestamp"], "in the order they happened"
    # An event raised now is sent after the owed ones; none of those comes again before it.
    assert back.call(IDENTITY, call.ChangeConfiguration(key="CpoName", value="ACME")).status == "Accepted"
    back.wait_for("SecurityEventNotification", where=lambda p: p["type"] == "ReconfigurationOfSecurityParameters")
    startups = [p for (_, _, p) in back.received("SecurityEventNotification") if p["type"] == "StartupOfTheDevice"]
    assert len(startups) == 2
    assert second.proc.poll() is None
