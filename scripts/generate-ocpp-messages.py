#!/usr/bin/env python3
"""Generate the Swift OCPP 1.6 and 2.0.1 message types from the official JSON schemas.

The schemas are the ones shipped by the `ocpp` PyPI package (ocpp/v16/schemas: core and
security-extension messages; ocpp/v201/schemas). Output: Sources/OCPP16Messages/Generated/ and
Sources/OCPP201Messages/Generated/, one file per action (`XRequest` + `XResponse`), plus shared
enums/objects and the action registry; and Tests/OCPPMessagesTests/Generated/, the test cases.

    scripts/generate-ocpp-messages.py                    # regenerate everything in place
    scripts/generate-ocpp-messages.py --check            # exit 1 if committed output is stale
    scripts/generate-ocpp-messages.py --version 1.6 [--schemas DIR]

Naming: 1.6 enums and objects get their OCPP 1.6 spec names (tables below; definitions from the
security schemas keep their names); 2.0.1 names every type in its schemas' definitions. A name
used with one identical shape by several messages becomes one shared top-level type; a name used
by one message, or whose shape differs between messages (1.6 StopTransaction's UnitOfMeasure
lacks "Celcius"), is nested inside each message type, so every message validates exactly against
its own schema.
"""
import argparse
import filecmp
import json
import pathlib
import shutil
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parent.parent

# Which side sends the request (OCPP 1.6 §3 and the security whitepaper), and the profile.
CP, CS, BOTH = "chargePointToCentralSystem", "centralSystemToChargePoint", "both"
ACTIONS = {
    "Authorize": (CP, "core"), "BootNotification": (CP, "core"), "ChangeAvailability": (CS, "core"),
    "ChangeConfiguration": (CS, "core"), "ClearCache": (CS, "core"), "DataTransfer": (BOTH, "core"),
    "GetConfiguration": (CS, "core"), "Heartbeat": (CP, "core"), "MeterValues": (CP, "core"),
    "RemoteStartTransaction": (CS, "core"), "RemoteStopTransaction": (CS, "core"), "Reset": (CS, "core"),
    "StartTransaction": (CP, "core"), "StatusNotification": (CP, "core"), "StopTransaction": (CP, "core"),
    "UnlockConnector": (CS, "core"),
    "GetDiagnostics": (CS, "firmwareManagement"), "DiagnosticsStatusNotification": (CP, "firmwareManagement"),
    "FirmwareStatusNotification": (CP, "firmwareManagement"), "UpdateFirmware": (CS, "firmwareManagement"),
    "GetLocalListVersion": (CS, "localAuthListManagement"), "SendLocalList": (CS, "localAuthListManagement"),
    "CancelReservation": (CS, "reservation"), "ReserveNow": (CS, "reservation"),
    "ClearChargingProfile": (CS, "smartCharging"), "GetCompositeSchedule": (CS, "smartCharging"),
    "SetChargingProfile": (CS, "smartCharging"),
    "TriggerMessage": (CS, "remoteTrigger"),
    "CertificateSigned": (CS, "security"), "DeleteCertificate": (CS, "security"),
    "ExtendedTriggerMessage": (CS, "security"), "GetInstalledCertificateIds": (CS, "security"),
    "GetLog": (CS, "security"), "InstallCertificate": (CS, "security"),
    "LogStatusNotification": (CP, "security"), "SecurityEventNotification": (CP, "security"),
    "SignCertificate": (CP, "security"), "SignedFirmwareStatusNotification": (CP, "security"),
    "SignedUpdateFirmware": (CS, "security"),
}

# Spec names of inline enums: by "Type.property" first, then by property name alone.
ENUM_NAMES = {
    "IdTagInfo.status": "AuthorizationStatus",
    "BootNotificationResponse.status": "RegistrationStatus",
    "CancelReservationResponse.status": "CancelReservationStatus",
    "ChangeAvailabilityRequest.type": "AvailabilityType",
    "ChangeAvailabilityResponse.status": "AvailabilityStatus",
    "ChangeConfigurationResponse.status": "ConfigurationStatus",
    "ClearCacheResponse.status": "ClearCacheStatus",
    "ClearChargingProfileResponse.status": "ClearChargingProfileStatus",
    "DataTransferResponse.status": "DataTransferStatus",
    "DiagnosticsStatusNotificationRequest.status": "DiagnosticsStatus",
    "FirmwareStatusNotificationRequest.status": "FirmwareStatus",
    "GetCompositeScheduleResponse.status": "GetCompositeScheduleStatus",
    "RemoteStartTransactionResponse.status": "RemoteStartStopStatus",
    "RemoteStopTransactionResponse.status": "RemoteStartStopStatus",
    "ReserveNowResponse.status": "ReservationStatus",
    "ResetRequest.type": "ResetType",
    "ResetResponse.status": "ResetStatus",
    "SendLocalListResponse.status": "UpdateStatus",
    "SetChargingProfileResponse.status": "ChargingProfileStatus",
    "StatusNotificationRequest.status": "ChargePointStatus",
    "TriggerMessageResponse.status": "TriggerMessageStatus",
    "UnlockConnectorResponse.status": "UnlockStatus",
    "chargingProfilePurpose": "ChargingProfilePurposeType",
    "chargingProfileKind": "ChargingProfileKindType",
    "recurrencyKind": "RecurrencyKindType",
    "chargingRateUnit": "ChargingRateUnitType",
    "context": "ReadingContext",
    "format": "ValueFormat",
    "measurand": "Measurand",
    "phase": "Phase",
    "location": "Location",
    "unit": "UnitOfMeasure",
    "updateType": "UpdateType",
    "errorCode": "ChargePointErrorCode",
    "reason": "Reason",
    "requestedMessage": "MessageTrigger",
}
# Spec names of inline objects, by property name (default: the property name capitalised).
OBJECT_NAMES = {
    "csChargingProfiles": "ChargingProfile",
    "localAuthorizationList": "AuthorizationData",
    "configurationKey": "KeyValue",
    "transactionData": "MeterValue",
    "meterValue": "MeterValue",
    "sampledValue": "SampledValue",
}

# OCPP 2.0.1: every enum and object is a named definition, so no naming tables are needed.
CS2, CSMS2 = "chargingStationToCSMS", "csmsToChargingStation"
FROM_STATION_201 = {
    "Authorize", "BootNotification", "ClearedChargingLimit", "FirmwareStatusNotification",
    "Get15118EVCertificate", "GetCertificateStatus", "Heartbeat", "LogStatusNotification", "MeterValues",
    "NotifyChargingLimit", "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
    "PublishFirmwareStatusNotification", "ReportChargingProfiles", "ReservationStatusUpdate",
    "SecurityEventNotification", "SignCertificate", "StatusNotification", "TransactionEvent",
}


class Version:
    """Everything that differs between the OCPP versions the generator serves."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def header(self, what=""):
        return (f"// Generated by scripts/generate-ocpp-messages.py from the ocpp package's {self.schemas} "
                f"schemas{what} — do not edit.\n")


V16 = Version(
    label="1.6", schemas="v16", prefix="OCPP16", module="OCPP16Messages",
    request_file="{}.json", response_file="{}Response.json",
    actions=ACTIONS, enum_names=ENUM_NAMES, object_names=OBJECT_NAMES,
    directions=[CP, CS, "both"], profiles=True, sample_items=2, mutation_depth=None,
    error_codes={},
)
# Test cases derived from the same schemas: a full and a minimal valid payload per message, and
# one mutation per field and constraint with the CALLERROR code and path it must produce. Every
# payload is checked against the schema with the jsonschema package first, so the Swift
# validation is compared with an independent implementation.
V201 = Version(
    label="2.0.1", schemas="v201", prefix="OCPP201", module="OCPP201Messages",
    request_file="{}Request.json", response_file="{}Response.json",
    actions=None, enum_names={}, object_names={},
    # Mutations stop three levels down: the charging-profile trees would otherwise give 20 MB.
    directions=[CS2, CSMS2, "both"], profiles=False, sample_items=1, mutation_depth=3,
    error_codes={"FormationViolation": "FormatViolation",
                 "OccurenceConstraintViolation": "OccurrenceConstraintViolation"},
)
VERSIONS = [V16, V201]
for _v in VERSIONS:
    _v.out = REPO / "Sources" / _v.module / "Generated"
    _v.cases = REPO / "Tests" / "OCPPMessagesTests" / "Generated" / f"{_v.prefix}PayloadCases.swift"

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows",
    "static", "struct", "subscript", "typealias", "var", "break", "case", "continue", "default",
    "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch",
    "where", "while", "as", "Any", "catch", "false", "is", "nil", "super", "self", "Self", "throw",
    "throws", "true", "try", "Type", "Protocol",
}


def ident(name):
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


def case_name(value):
    words, cur = [], ""
    for ch in value:
        if ch.isalnum():
            cur += ch
        elif cur:
            words.append(cur)
            cur = ""
    if cur:
        words.append(cur)
    first = words[0]
    upper = 0
    while upper < len(first) and first[upper].isupper():
        upper += 1
    if upper == len(first) or (upper < len(first) and first[upper].isdigit()):
        first = first.lower()
    elif upper > 1:
        first = first[:upper - 1].lower() + first[upper - 1:]
    else:
        first = first[:1].lower() + first[1:]
    rest = [w[:1].upper() + w[1:] for w in words[1:]]
    name = first + "".join(rest)
    if name[0].isdigit():
        name = "_" + name
    return ident(name)


def lower_first(name):
    return name[:1].lower() + name[1:]


def swift_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------
# Model: a field's type is one of
#   ("string", maxLength) ("datetime",) ("integer", min, max) ("number", multipleOf, min, max)
#   ("boolean",)
#   ("enum", EnumDef) ("object", ObjectDef) ("array", itemType, minItems, maxItems)

class EnumDef:
    def __init__(self, name, values):
        self.name, self.values = name, list(values)
        self.owners = []  # message types using it
        self.shared = True

    def signature(self):
        return ("enum", self.name, tuple(self.values))


class ObjectDef:
    def __init__(self, name, fields, open_=False):
        self.name = name
        self.fields = fields  # list of (jsonName, type, required)
        self.open = open_     # accepts members the schema does not name (2.0.1 CustomDataType)
        self.owners = []
        self.shared = True

    def signature(self):
        return ("object", self.name, self.open, tuple((n, type_signature(t), r) for n, t, r in self.fields))


def type_signature(t):
    if t[0] in ("enum", "object"):
        return t[1].signature()
    if t[0] == "array":
        return ("array", type_signature(t[1]), t[2], t[3])
    return t


class Builder:
    def __init__(self, version):
        self.version = version
        self.enums = {}    # name -> list of EnumDef variants
        self.objects = {}  # name -> list of ObjectDef variants

    def resolve(self, schema, root):
        while "$ref" in schema:
            ref = schema["$ref"]
            assert ref.startswith("#/definitions/"), ref
            schema = root["definitions"][ref.split("/")[-1]]
        return schema

    @staticmethod
    def definition_name(schema):
        if "$ref" in schema:
            return schema["$ref"].split("/")[-1]
        return None

    def field_type(self, schema, root, owner_type, prop, message):
        defname = self.definition_name(schema)
        schema = self.resolve(schema, root)
        kind = schema.get("type")
        if "enum" in schema:
            assert kind == "string", schema
            names = self.version.enum_names
            name = defname or names.get(f"{owner_type}.{prop}") or names.get(prop)
            if name is None:
                sys.exit(f"no spec name for the enum {owner_type}.{prop}; add it to ENUM_NAMES")
            return ("enum", self.register(self.enums, EnumDef(name, schema["enum"]), message))
        if kind == "string":
            if schema.get("format") == "date-time":
                return ("datetime",)
            return ("string", schema.get("maxLength"))
        if kind == "integer":
            bound = lambda key: None if schema.get(key) is None else int(schema[key])
            return ("integer", bound("minimum"), bound("maximum"))
        if kind == "number":
            return ("number", schema.get("multipleOf"), schema.get("minimum"), schema.get("maximum"))
        if kind == "boolean":
            return ("boolean",)
        if kind == "object":
            name = defname or self.version.object_names.get(prop) or (prop[:1].upper() + prop[1:])
            return ("object", self.register(self.objects, self.object_def(name, schema, root, message), message))
        if kind == "array":
            items = schema["items"]
            item_type = self.field_type(items, root, owner_type, prop, message)
            return ("array", item_type, schema.get("minItems"), schema.get("maxItems"))
        if kind is None and set(schema) <= {"description", "comment"}:
            return ("any",)  # 2.0.1 DataTransfer.data: any JSON value
        sys.exit(f"unsupported schema at {owner_type}.{prop}: {schema}")

    def object_def(self, name, schema, root, message):
        open_ = schema.get("additionalProperties") is not False
        assert not open_ or name == "CustomDataType", f"{name}: additionalProperties is not false"
        required = set(schema.get("required", []))
        fields = []
        for prop, sub in schema.get("properties", {}).items():
            fields.append((prop, self.field_type(sub, root, name, prop, message), prop in required))
        unknown = required - {f[0] for f in fields}
        assert not unknown, f"{name}: required but undefined {unknown}"
        return ObjectDef(name, fields, open_)

    def register(self, table, definition, message):
        variants = table.setdefault(definition.name, [])
        for existing in variants:
            if existing.signature() == definition.signature():
                if message not in existing.owners:
                    existing.owners.append(message)
                return existing
        definition.owners.append(message)
        variants.append(definition)
        return definition

    def finish(self):
        # A name with more than one shape is nested in each message that uses it; names with one
        # shape used by one message are nested too (they belong to it), shared otherwise.
        for table in (self.enums, self.objects):
            for variants in table.values():
                for v in variants:
                    v.shared = len(variants) == 1 and len(v.owners) > 1
                    assert v.shared or len(v.owners) == 1, (v.name, v.owners)


# ---------------------------------------------------------------------------------------------
# Swift emission

def swift_type(t, scope):
    kind = t[0]
    if kind == "any":
        return "JSONValue"
    if kind in ("string", "datetime"):
        return "String"
    if kind == "integer":
        return "Int"
    if kind == "number":
        return "Double"
    if kind == "boolean":
        return "Bool"
    if kind in ("enum", "object"):
        return t[1].name
    if kind == "array":
        return "[" + swift_type(t[1], scope) + "]"
    raise ValueError(t)


def decode_expr(t, value, path):
    """Swift expression decoding JSONValue `value` (with path expression `path`) into type t."""
    kind = t[0]
    if kind == "any":
        return value
    if kind == "string":
        ml = "nil" if t[1] is None else str(t[1])
        return f"try PayloadField.string({value}, path: {path}, maxLength: {ml})"
    if kind == "datetime":
        return f"try PayloadField.dateTime({value}, path: {path})"
    if kind == "integer":
        bounds = "".join(f", {k}: {b}" for k, b in (("minimum", t[1]), ("maximum", t[2])) if b is not None)
        return f"try PayloadField.integer({value}, path: {path}{bounds})"
    if kind == "number":
        mo = "nil" if t[1] is None else repr(float(t[1]))
        bounds = "".join(f", {k}: {float(b)!r}" for k, b in (("minimum", t[2]), ("maximum", t[3])) if b is not None)
        return f"try PayloadField.number({value}, path: {path}, multipleOf: {mo}{bounds})"
    if kind == "boolean":
        return f"try PayloadField.boolean({value}, path: {path})"
    if kind == "enum":
        return f"try PayloadField.enumeration({value}, path: {path}, as: {t[1].name}.self)"
    if kind == "object":
        return f"try {t[1].name}(json: {value}, path: {path})"
    if kind == "array":
        mn = "nil" if t[2] is None else str(t[2])
        mx = "nil" if t[3] is None else str(t[3])
        inner = decode_expr(t[1], "$0", "$1")
        return (f"try PayloadField.elements(PayloadField.array({value}, path: {path}, minItems: {mn}, "
                f"maxItems: {mx})) {{ (value: JSONValue, i: Int) throws(OCPPPayloadError) in "
                f"{decode_expr(t[1], 'value', 'PayloadField.index(' + path + ', i)')} }}")
    raise ValueError(t)


def encode_expr(t, value):
    kind = t[0]
    if kind == "any":
        return value
    if kind in ("string", "datetime"):
        return f".string({value})"
    if kind == "integer":
        return f".integer(Int64({value}))"
    if kind == "number":
        return f".double({value})"
    if kind == "boolean":
        return f".bool({value})"
    if kind == "enum":
        return f".string({value}.rawValue)"
    if kind == "object":
        return f"{value}.toJSON()"
    if kind == "array":
        return f".array({value}.map {{ {encode_expr(t[1], '$0')} }})"
    raise ValueError(t)


def emit_enum(e, indent):
    p = " " * indent
    lines = [f"{p}public enum {e.name}: String, Sendable, Hashable, CaseIterable {{"]
    names = set()
    for v in e.values:
        c = case_name(v)
        assert c not in names, (e.name, v)
        names.add(c)
        lines.append(f"{p}    case {c} = {swift_string(v)}")
    lines.append(f"{p}}}")
    return lines


def emit_struct(name, fields, indent, nested, conformance, extra_members, placed, open_=False):
    """nested: defs to declare inside this struct (already chosen by the caller)."""
    p = " " * indent
    lines = [f"{p}public struct {name}: {conformance} {{"]
    for jname, t, req in fields:
        opt = "" if req else "?"
        lines.append(f"{p}    public var {ident(jname)}: {swift_type(t, name)}{opt}")
    if open_:
        lines.append(f"{p}    /// Members the schema does not name (the type is open for vendor data).")
        lines.append(f"{p}    public var additionalMembers: JSONObject")
    if fields:
        lines.append("")
    # memberwise init
    params = ", ".join(
        f"{ident(j)}: {swift_type(t, name)}{'' if r else '? = nil'}" for j, t, r in fields)
    if open_:
        params += ", additionalMembers: JSONObject = JSONObject()"
    if fields:
        lines.append(f"{p}    public init({params}) {{")
        for j, _, _ in fields:
            lines.append(f"{p}        self.{ident(j)} = {ident(j)}")
        if open_:
            lines.append(f"{p}        self.additionalMembers = additionalMembers")
        lines.append(f"{p}    }}")
    else:
        lines.append(f"{p}    public init() {{}}")
    lines.append("")
    keys = ", ".join(swift_string(j) for j, _, _ in fields)
    lines.append(f"{p}    static let memberNames: Set<String> = [{keys}]")
    lines.append("")
    lines.append(f"{p}    public init(json: JSONValue) throws(OCPPPayloadError) {{")
    lines.append(f"{p}        try self.init(json: json, path: \"\")")
    lines.append(f"{p}    }}")
    lines.append("")
    lines.append(f"{p}    init(json: JSONValue, path: @autoclosure () -> String) throws(OCPPPayloadError) {{")
    lines.append(f"{p}        let object = try PayloadField.object(json, path: path())")
    if open_:
        lines.append(f"{p}        self.additionalMembers = PayloadField.additionalMembers(object, known: Self.memberNames)")
    else:
        lines.append(f"{p}        try PayloadField.rejectUnknownMembers(object, known: Self.memberNames, path: path())")
    for j, t, r in fields:
        fpath = f"PayloadField.join(path(), {swift_string(j)})"
        if r:
            lines.append(f"{p}        let {lower_first('v_' + j)} = try PayloadField.required(object, {swift_string(j)}, path: path())")
            lines.append(f"{p}        self.{ident(j)} = {decode_expr(t, 'v_' + j, fpath)}")
        else:
            lines.append(f"{p}        if let v_{j} = object[{swift_string(j)}] {{")
            lines.append(f"{p}            self.{ident(j)} = {decode_expr(t, 'v_' + j, fpath)}")
            lines.append(f"{p}        }} else {{")
            lines.append(f"{p}            self.{ident(j)} = nil")
            lines.append(f"{p}        }}")
    lines.append(f"{p}    }}")
    lines.append("")
    lines.append(f"{p}    public func toJSON() -> JSONValue {{")
    if not fields:
        lines.append(f"{p}        return .object(JSONObject())")
    else:
        lines.append(f"{p}        var object = JSONObject(minimumCapacity: {len(fields)})")
        for j, t, r in fields:
            if r:
                lines.append(f"{p}        object[{swift_string(j)}] = {encode_expr(t, 'self.' + ident(j))}")
            else:
                lines.append(f"{p}        if let value = self.{ident(j)} {{ object[{swift_string(j)}] = {encode_expr(t, 'value')} }}")
        if open_:
            lines.append(f"{p}        for (key, value) in additionalMembers.members where object[key] == nil {{ object[key] = value }}")
        lines.append(f"{p}        return .object(object)")
    lines.append(f"{p}    }}")
    if extra_members:
        lines.append("")
    for m in extra_members:
        lines.append(f"{p}    {m}")
    for d in nested:
        lines.append("")
        lines.extend(emit_def(d, indent + 4, placed))
    lines.append(f"{p}}}")
    return lines


def emit_def(d, indent, placed):
    placed.add(id(d))
    if isinstance(d, EnumDef):
        return emit_enum(d, indent)
    children = [c for c in collect_direct(d.fields) if not c.shared and id(c) not in placed]
    for c in children:
        placed.add(id(c))
    return emit_struct(d.name, d.fields, indent, children, "Sendable, Hashable", [], placed, d.open)


def collect_direct(fields):
    out = []
    def visit(t):
        if t[0] in ("enum", "object"):
            if t[1] not in out:
                out.append(t[1])
        elif t[0] == "array":
            visit(t[1])
    for _, t, _ in fields:
        visit(t)
    return out


def generate(v, schema_dir, out_dir):
    b = Builder(v)
    messages = []
    for action in sorted(v.actions):
        for suffix, file in (("Request", v.request_file.format(action)), ("Response", v.response_file.format(action))):
            path = schema_dir / file
            root = json.loads(path.read_text())
            name = action + suffix
            messages.append((action, suffix, b.object_def(name, root, root, name)))
    schema_files = {p.name for p in schema_dir.glob("*.json")}
    expected = {v.request_file.format(a) for a in v.actions} | {v.response_file.format(a) for a in v.actions}
    if schema_files != expected:
        sys.exit(f"schemas and action table differ: {sorted(schema_files ^ expected)}")
    b.finish()

    files = {}
    placed = set()
    # Shared definitions first so messages don't nest them.
    shared_enums = sorted((v for vs in b.enums.values() for v in vs if v.shared), key=lambda e: e.name)
    shared_objects = sorted((v for vs in b.objects.values() for v in vs if v.shared), key=lambda o: o.name)
    for d in shared_enums + shared_objects:
        placed.add(id(d))

    lines = [v.header(), "import OCPPJSON", "",
             "// Enums used with the same values by more than one message.", ""]
    for e in shared_enums:
        lines.extend(emit_enum(e, 0))
        lines.append("")
    files["SharedEnums.swift"] = lines

    lines = [v.header(), "import OCPPJSON", "",
             "// Objects used with the same shape by more than one message.", ""]
    for o in shared_objects:
        children = [c for c in collect_direct(o.fields) if not c.shared]
        lines.extend(emit_struct(o.name, o.fields, 0, children, "Sendable, Hashable", [], placed, o.open))
        lines.append("")
    files["SharedTypes.swift"] = lines

    by_action = {}
    for action, suffix, obj in messages:
        by_action.setdefault(action, []).append((suffix, obj))
    for action, parts in by_action.items():
        lines = [v.header(), "import OCPPJSON", ""]
        for suffix, obj in parts:
            conformance = f"{v.prefix}{suffix}Payload"
            extra = [f"public static var action: {v.prefix}Action {{ .{lower_first(action)} }}"]
            if suffix == "Request":
                extra.append(f"public typealias Response = {action}Response")
            children = [c for c in collect_direct(obj.fields) if not c.shared and id(c) not in placed]
            for c in children:
                placed.add(id(c))
            lines.append(f"/// The `{action}` {'request' if suffix == 'Request' else 'response (CALLRESULT payload)'}.")
            lines.extend(emit_struct(obj.name, obj.fields, 0, children, conformance, extra, placed))
            lines.append("")
        files[f"{action}.swift"] = lines

    files[f"{v.prefix}Action.swift"] = emit_registry(v)

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        text = "\n".join(lines).rstrip() + "\n"
        # Drop trailing spaces left by blank indented lines.
        text = "\n".join(l.rstrip() for l in text.split("\n"))
        (out_dir / name).write_text(text)
    return set(files)


def emit_registry(v):
    actions = sorted(v.actions)
    L = [v.header(), "import OCPPJSON", ""]
    L.append("/// Who sends the request of an action.")
    L.append(f"public enum {v.prefix}Direction: Sendable, Hashable {{")
    L.append(f"    case {v.directions[0]}")
    L.append(f"    case {v.directions[1]}")
    L.append("    /// DataTransfer may be initiated by either side.")
    L.append("    case both")
    L.append("}")
    L.append("")
    if v.profiles:
        L.append("/// The feature profile (OCPP 1.6 §3) or the security whitepaper an action belongs to.")
        L.append(f"public enum {v.prefix}FeatureProfile: Sendable, Hashable {{")
        for p in ["core", "firmwareManagement", "localAuthListManagement", "reservation", "smartCharging",
                  "remoteTrigger", "security"]:
            L.append(f"    case {p}")
        L.append("}")
        L.append("")
    wire_name = "OCPP 1.6J" if v is V16 else f"OCPP {v.label}"
    L.append(f"/// Every {wire_name} action, the raw value being the action name on the wire.")
    L.append(f"public enum {v.prefix}Action: String, Sendable, Hashable, CaseIterable {{")
    for a in actions:
        L.append(f"    case {lower_first(a)} = {swift_string(a)}")
    L.append("")
    L.append(f"    public var requestType: any {v.prefix}RequestPayload.Type {{")
    L.append("        switch self {")
    for a in actions:
        L.append(f"        case .{lower_first(a)}: return {a}Request.self")
    L.append("        }")
    L.append("    }")
    L.append("")
    L.append(f"    public var responseType: any {v.prefix}ResponsePayload.Type {{")
    L.append("        switch self {")
    for a in actions:
        L.append(f"        case .{lower_first(a)}: return {a}Response.self")
    L.append("        }")
    L.append("    }")
    L.append("")
    L.append(f"    public var direction: {v.prefix}Direction {{")
    L.append("        switch self {")
    for a in actions:
        L.append(f"        case .{lower_first(a)}: return .{v.actions[a][0]}")
    L.append("        }")
    L.append("    }")
    L.append("")
    if v.profiles:
        L.append(f"    public var featureProfile: {v.prefix}FeatureProfile {{")
        L.append("        switch self {")
        for a in actions:
            L.append(f"        case .{lower_first(a)}: return .{v.actions[a][1]}")
        L.append("        }")
        L.append("    }")
    else:
        L.pop()  # the blank line after direction
    L.append("}")
    L.append("")
    for kind in ("Request", "Response"):
        L.append(f"/// A decoded {kind.lower()} of any action.")
        L.append(f"public enum {v.prefix}Any{kind}: Sendable, Hashable {{")
        for a in actions:
            L.append(f"    case {lower_first(a)}({a}{kind})")
        L.append("")
        L.append(f"    public var action: {v.prefix}Action {{")
        L.append("        switch self {")
        for a in actions:
            L.append(f"        case .{lower_first(a)}: return .{lower_first(a)}")
        L.append("        }")
        L.append("    }")
        L.append("")
        L.append(f"    public var payload: any {v.prefix}{kind}Payload {{")
        L.append("        switch self {")
        for a in actions:
            L.append(f"        case .{lower_first(a)}(let p): return p")
        L.append("        }")
        L.append("    }")
        L.append("")
        L.append("    public func toJSON() -> JSONValue { payload.toJSON() }")
        L.append("}")
        L.append("")
    L.append(f"public enum {v.prefix}Messages {{")
    for kind in ("Request", "Response"):
        L.append(f"    /// Decodes and validates the {kind.lower()} payload of `action`.")
        L.append(f"    public static func decode{kind}(action: {v.prefix}Action, payload: JSONValue)")
        L.append(f"        throws(OCPPPayloadError) -> {v.prefix}Any{kind}")
        L.append("    {")
        L.append("        switch action {")
        for a in actions:
            L.append(f"        case .{lower_first(a)}: return .{lower_first(a)}(try {a}{kind}(json: payload))")
        L.append("        }")
        L.append("    }")
        L.append("")
    L.append("}")
    return L


SAMPLE_TIME = "2026-11-24T22:40:17.123Z"


def sample(schema, root, full, items=2):
    schema = resolve(schema, root)
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][-1 if full else 0]
    if kind == "string":
        if schema.get("format") == "date-time":
            return SAMPLE_TIME
        n = schema.get("maxLength")
        # Strings at their maximum length test the boundary (1.6); 2.0.1 has 5,500-character
        # certificates in deeply repeated structures, where that would make the cases huge.
        return ("é" + "x" * (n - 1)) if (n and full and items > 1) else "text"
    if kind == "integer":
        return min(max(7, int(schema.get("minimum", 7))), int(schema.get("maximum", 7)))
    if kind == "number":
        return min(max(16.5, schema.get("minimum", 16.5)), schema.get("maximum", 16.5))
    if kind == "boolean":
        return True
    if kind == "object":
        required = schema.get("required", [])
        return {k: sample(v, root, full, items) for k, v in schema.get("properties", {}).items()
                if full or k in required}
    if kind is None:
        return {"any": ["json", 1]}
    if kind == "array":
        count = items if full else max(schema.get("minItems", 1), 1)
        if schema.get("maxItems") is not None:
            count = min(count, schema["maxItems"])
        return [sample(schema["items"], root, full, items) for _ in range(count)]
    raise ValueError(schema)


def resolve(schema, root):
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].split("/")[-1]]
    return schema


def wrong_type_value(schema):
    kind = schema.get("type")
    return {"string": 12345, "integer": "7", "number": "16.5", "boolean": "true",
            "object": "object", "array": {"not": "an array"}}[kind]


def mutations(payload, schema, root, path):
    """(mutated payload, errorCode, path) for every field below `schema` (payload is its full sample)."""
    schema = resolve(schema, root)
    out = []

    def replace(obj, key, value):
        copy = dict(obj)
        if value is _REMOVE:
            del copy[key]
        else:
            copy[key] = value
        return copy

    if schema.get("type") == "object":
        joined = lambda k: f"{path}.{k}" if path else k
        if schema.get("additionalProperties") is False:
            out.append((dict(payload, unexpectedMember=1), "FormationViolation", joined("unexpectedMember")))
        for key, sub in schema.get("properties", {}).items():
            subr = resolve(sub, root)
            if key in schema.get("required", []):
                out.append((replace(payload, key, _REMOVE), "OccurenceConstraintViolation", joined(key)))
            if subr.get("type"):
                out.append((replace(payload, key, wrong_type_value(subr)), "TypeConstraintViolation", joined(key)))
            if "enum" in subr:
                out.append((replace(payload, key, "NoSuchValue"), "PropertyConstraintViolation", joined(key)))
            elif subr.get("format") == "date-time":
                out.append((replace(payload, key, "2026-11-24 22:40"), "PropertyConstraintViolation", joined(key)))
            elif subr.get("maxLength"):
                out.append((replace(payload, key, "x" * (subr["maxLength"] + 1)), "PropertyConstraintViolation", joined(key)))
            elif subr.get("multipleOf"):
                out.append((replace(payload, key, 16.55), "PropertyConstraintViolation", joined(key)))
            elif subr.get("type") == "integer":
                out.append((replace(payload, key, 7.5), "TypeConstraintViolation", joined(key)))
            if subr.get("minimum") is not None:
                out.append((replace(payload, key, subr["minimum"] - 1), "PropertyConstraintViolation", joined(key)))
            if subr.get("maximum") is not None:
                out.append((replace(payload, key, subr["maximum"] + 1), "PropertyConstraintViolation", joined(key)))
            if key not in payload:
                continue
            for child, code, child_path in mutations(payload[key], subr, root, joined(key)):
                out.append((replace(payload, key, child), code, child_path))
    elif schema.get("type") == "array":
        if schema.get("minItems"):
            out.append(([], "OccurenceConstraintViolation", path))
        if schema.get("maxItems") is not None:
            out.append(([payload[0]] * (schema["maxItems"] + 1), "OccurenceConstraintViolation", path))
        items = resolve(schema["items"], root)
        out.append(([payload[0], wrong_type_value(items)], "TypeConstraintViolation", f"{path}[1]"))
        for child, code, child_path in mutations(payload[0], items, root, f"{path}[0]"):
            out.append(([child] + payload[1:], code, child_path))
    return out


_REMOVE = object()


def swift_raw(text):
    return '#"' + text + '"#'


def generate_cases(v, schema_dir, out_file):
    import jsonschema
    valid, invalid = [], []
    for action in sorted(v.actions):
        for suffix, file in (("Request", v.request_file.format(action)), ("Response", v.response_file.format(action))):
            root = json.loads((schema_dir / file).read_text())
            validator = jsonschema.validators.validator_for(root)(root, format_checker=jsonschema.FormatChecker())
            full, minimal = sample(root, root, True, v.sample_items), sample(root, root, False, v.sample_items)
            for payload in (full, minimal):
                errors = list(validator.iter_errors(payload))
                assert not errors, (file, errors[0].message)
                valid.append((action, suffix, json.dumps(payload, ensure_ascii=False)))
            invalid.append((action, suffix, "[]", v.error_codes.get("FormationViolation", "FormationViolation"), ""))
            for payload, code, path in mutations(full, root, root, ""):
                if v.mutation_depth is not None and path.count(".") + path.count("[") > v.mutation_depth:
                    continue
                if not list(validator.iter_errors(payload)):
                    # Only the date-time shape is beyond what jsonschema checks without extras.
                    assert code == "PropertyConstraintViolation", (file, path, code)
                invalid.append((action, suffix, json.dumps(payload, ensure_ascii=False),
                                v.error_codes.get(code, code), path))
    L = [v.header(" (test cases)"), f"@testable import {v.module}", "",
         f"struct {v.prefix}ValidCase: Sendable {{",
         f"    let action: {v.prefix}Action", "    let isRequest: Bool", "    let json: String", "}", "",
         f"struct {v.prefix}InvalidCase: Sendable {{",
         f"    let action: {v.prefix}Action", "    let isRequest: Bool", "    let json: String",
         "    let errorCode: String", "    let path: String", "}", "",
         f"enum {v.prefix}PayloadCases {{",
         "    /// A payload with every field and one with only the required fields, per message.",
         f"    static let valid: [{v.prefix}ValidCase] = ["]
    for action, suffix, text in valid:
        L.append(f"        .init(action: .{lower_first(action)}, isRequest: {str(suffix == 'Request').lower()}, json: {swift_raw(text)}),")
    L.append("    ]")
    L.append("")
    L.append("    /// One broken payload per field and constraint, with the error it must produce.")
    L.append(f"    static let invalid: [{v.prefix}InvalidCase] = [")
    for action, suffix, text, code, path in invalid:
        L.append(f"        .init(action: .{lower_first(action)}, isRequest: {str(suffix == 'Request').lower()}, "
                 f"json: {swift_raw(text)}, errorCode: \"{code}\", path: \"{path}\"),")
    L.append("    ]")
    L.append("}")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text("\n".join(L) + "\n")


def find_schema_dir(v):
    try:
        import ocpp  # noqa: F401
        return pathlib.Path(ocpp.__file__).parent / v.schemas / "schemas"
    except ImportError:
        pass
    for candidate in (REPO / ".venv").glob(f"lib/python3*/site-packages/ocpp/{v.schemas}/schemas"):
        return candidate
    sys.exit("the ocpp package is not installed: create .venv from Tests/Interop/requirements.txt")


def stale_files(v, schema_dir):
    """Names of committed files that differ from a fresh generation (or are missing/extra)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = pathlib.Path(tmp)
        generate(v, schema_dir, fresh)
        generate_cases(v, schema_dir, fresh / "cases.swift")
        cases_stale = not v.cases.exists() or not filecmp.cmp(v.cases, fresh / "cases.swift", shallow=False)
        (fresh / "cases.swift").unlink()
        committed = {p.name for p in v.out.glob("*.swift")} if v.out.exists() else set()
        generated = {p.name for p in fresh.glob("*.swift")}
        stale = sorted(committed ^ generated)
        stale += sorted(n for n in committed & generated
                        if not filecmp.cmp(v.out / n, fresh / n, shallow=False))
        if cases_stale:
            stale.append(str(v.cases.relative_to(REPO)))
        return stale, len(generated) + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed output is stale")
    parser.add_argument("--version", choices=[v.label for v in VERSIONS], help="only this OCPP version")
    parser.add_argument("--schemas", type=pathlib.Path,
                        help="schema folder (default: the ocpp package's; needs --version)")
    args = parser.parse_args()
    if args.schemas and not args.version:
        parser.error("--schemas needs --version")
    failed = False
    for v in VERSIONS:
        if args.version and v.label != args.version:
            continue
        schema_dir = args.schemas or find_schema_dir(v)
        if v.actions is None:
            v.actions = {p.name[:-len("Request.json")]: (CS2 if p.name[:-len("Request.json")] in FROM_STATION_201
                                                        else CSMS2, None)
                         for p in schema_dir.glob("*Request.json")}
            v.actions["DataTransfer"] = ("both", None)
        if not args.check:
            if v.out.exists():
                shutil.rmtree(v.out)
            names = generate(v, schema_dir, v.out)
            generate_cases(v, schema_dir, v.cases)
            print(f"OCPP {v.label}: wrote {len(names)} files to {v.out.relative_to(REPO)} "
                  f"and {v.cases.relative_to(REPO)}")
            continue
        stale, count = stale_files(v, schema_dir)
        if stale:
            print(f"generated OCPP {v.label} messages are stale; run scripts/generate-ocpp-messages.py:",
                  ", ".join(stale), file=sys.stderr)
            failed = True
        else:
            print(f"OCPP {v.label}: {count} generated files up to date")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
