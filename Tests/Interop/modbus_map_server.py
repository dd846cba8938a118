"""A Modbus TCP energy meter served by pymodbus: a peer none of us wrote.

It serves the registers of one meter map from Board/meters/ (values encoded here, in
Python, independently of the Swift encoder), or a raw register image for the HAL tests.

    python modbus_map_server.py --map Board/meters/sdm630.yaml [--port 0] [--unit 1]
    python modbus_map_server.py --holding 100=1,2,3 --input 0=10,20 [--unit 1]
    python modbus_map_server.py --silent          # accepts connections, never answers

It prints one line `READY port=<port>` on stdout once it listens, then serves until it
is killed or its stdin closes.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import pathlib
import socket
import struct
import sys

import yaml

# Register types: (struct format of the big-endian value, number of 16-bit registers).
TYPES = {
    "int16": (">h", 1),
    "uint16": (">H", 1),
    "int32": (">i", 2),
    "uint32": (">I", 2),
    "uint64": (">Q", 4),
    "float32": (">f", 2),
}
SIGNED = {"int16", "int32", "float32"}

# What the served meter shows, in the firmware's units (V, A, W, Wh, Hz, PF).
NOMINAL = {
    "voltage.l1": 230.1,
    "voltage.l2": 231.2,
    "voltage.l3": 229.8,
    "current.l1": 16.125,
    "current.l2": 15.5,
    "current.l3": 0.25,
    "power.active.l1": 3701.5,
    "power.active.l2": 3600.0,
    "power.active.l3": -150.5,
    "power.active.total": 7151.0,
    "energy.active.import": 12_345_600.0,
    "energy.active.export": 1_200.0,
    "frequency": 50.0,
    "power_factor": 0.987,
}


def load_map(path: str | pathlib.Path) -> dict:
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    data.setdefault("word_order", "high-first")
    for name, reg in data["registers"].items():
        if reg["type"] not in TYPES:
            raise ValueError(f"{path}: {name}: unknown type {reg['type']}")
        if reg["function"] not in (3, 4):
            raise ValueError(f"{path}: {name}: function must be 3 or 4")
        reg.setdefault("scale", 1)
        reg.setdefault("word_order", data["word_order"])
    return data


def encode(value: float, reg: dict) -> list[int]:
    """Firmware-unit value -> registers as the meter puts them on the wire."""
    fmt, count = TYPES[reg["type"]]
    raw = value / reg["scale"]
    raw = raw if reg["type"] == "float32" else int(round(raw))
    words = list(struct.unpack(f">{count}H", struct.pack(fmt, raw)))
    return words if reg["word_order"] == "high-first" else words[::-1]


def decode(words: list[int], reg: dict) -> float:
    fmt, count = TYPES[reg["type"]]
    ordered = words if reg["word_order"] == "high-first" else words[::-1]
    (raw,) = struct.unpack(fmt, struct.pack(f">{count}H", *ordered))
    return raw * reg["scale"]


def served_values(meter_map: dict) -> dict[str, float]:
    """The value each measurand reads back as (after the type's rounding), keyed by measurand.

    Measurands sharing a register (SDM120: total power is L1 power) get the same value.
    """
    by_register: dict[tuple[int, int], float] = {}
    values = {}
    for name in sorted(meter_map["registers"]):
        reg = meter_map["registers"][name]
        key = (reg["function"], reg["address"])
        nominal = by_register.setdefault(
            key, NOMINAL[name] if reg["type"] in SIGNED else abs(NOMINAL[name])
        )
        values[name] = decode(encode(nominal, reg), reg)
    return values


def register_image(meter_map: dict) -> dict[int, dict[int, int]]:
    """function -> {address: word} for every register of the map."""
    image: dict[int, dict[int, int]] = {3: {}, 4: {}}
    values = served_values(meter_map)
    for name, reg in meter_map["registers"].items():
        for i, word in enumerate(encode(values[name], reg)):
            image[reg["function"]][reg["address"] + i] = word
    return image


def parse_raw(spec: list[str]) -> dict[int, int]:
    """['100=1,2,3', '0x10=7'] -> {100: 1, 101: 2, 102: 3, 16: 7}."""
    out = {}
    for item in spec:
        start, _, words = item.partition("=")
        base = int(start, 0)
        for i, w in enumerate(words.split(",")):
            out[base + i] = int(w, 0) & 0xFFFF
    return out


def build_device(unit: int, image: dict[int, dict[int, int]]):
    from pymodbus.simulator import DataType, SimData, SimDevice

    def blocks(registers: dict[int, int]) -> list:
        out, run_start, run = [], None, []
        for addr in sorted(registers):
            if run and addr == run_start + len(run):
                run.append(registers[addr])
                continue
            if run:
                out.append(SimData(run_start, values=run, datatype=DataType.REGISTERS))
            run_start, run = addr, [registers[addr]]
        if run:
            out.append(SimData(run_start, values=run, datatype=DataType.REGISTERS))
        # pymodbus wants every block non-empty: a lone register far from any meter's map.
        return out or [SimData(0xFFF0, values=[0], datatype=DataType.REGISTERS)]

    bits = [SimData(0, values=[False], datatype=DataType.BITS)]
    return SimDevice(id=unit, simdata=(bits, list(bits), blocks(image[3]), blocks(image[4])))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def serve_modbus(image, unit: int, port: int) -> None:
    from pymodbus.server import ModbusTcpServer

    server = ModbusTcpServer(build_device(unit, image), address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    print(f"READY port={port}", flush=True)
    try:
        await _until_stdin_closes()
    finally:
        await server.shutdown()


async def serve_silent(port: int) -> None:
    """Accepts connections and reads requests, never answers: a meter gone mute."""
    async def swallow(reader, _writer):
        while await reader.read(256):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", port)
    print(f"READY port={port}", flush=True)
    async with server:
        await _until_stdin_closes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", help="meter map YAML file")
    parser.add_argument("--holding", action="append", default=[], help="ADDR=W1,W2,… holding registers")
    parser.add_argument("--input", action="append", default=[], help="ADDR=W1,W2,… input registers")
    parser.add_argument("--silent", action="store_true", help="accept connections but never answer")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--unit", type=int, default=1)
    args = parser.parse_args(argv)
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    port = args.port or free_port()
    if args.silent:
        asyncio.run(serve_silent(port))
        return 0
    if args.map:
        image = register_image(load_map(args.map))
    else:
        image = {3: parse_raw(args.holding), 4: parse_raw(args.input)}
    asyncio.run(serve_modbus(image, args.unit, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
