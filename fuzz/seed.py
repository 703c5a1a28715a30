#!/usr/bin/env python3
"""Builds the seed corpora of every fuzz target from the real captures in fixtures/.

Usage: fuzz/seed.py   (from the repository root; needs tshark). Writes fuzz/corpus/<target>/.
Captures and HAR/log files are copied as they are; the decoders' targets get the TCP streams of
every connection (one file per connection and direction), cut into each target's input format.
"""
import hashlib
import pathlib
import subprocess
import sys
from collections import defaultdict

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
MAX_CAPTURE = 300_000  # bytes: larger captures make a slow seed


def put(target, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def segments(pcap):
    """(stream, client_to_server, flags, payload) per TCP packet, in capture order."""
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport",
         "-e", "tcp.dstport", "-e", "tcp.flags", "-e", "tcp.payload", "-Y", "tcp"],
        capture_output=True, text=True, check=False).stdout
    clients = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 5 or not f[0]:
            continue
        stream, sport, dport = int(f[0]), int(f[1]), int(f[2])
        flags = int(f[3], 16)
        if stream not in clients:
            # The SYN's sender, else the higher (ephemeral) port.
            clients[stream] = sport if flags & 0x12 == 0x02 or sport > dport else dport
        yield stream, sport == clients[stream], flags, bytes.fromhex(f[4].replace(":", ""))


def main():
    captures = [p for p in sorted((ROOT / "fixtures").rglob("*.pcap*"))
                if p.stat().st_size <= MAX_CAPTURE]
    for p in captures:
        data = p.read_bytes()
        for t in ("capture", "pipeline", "annotate"):
            put(t, data)
        streams = defaultdict(bytearray)
        tcp_seed = bytearray()
        for stream, c2s, flags, payload in segments(p):
            streams[(stream, c2s)] += payload
            # fuzz_targets/tcp.rs: header byte (direction, SYN, ACK, FIN, RST, flow), seq delta 0.
            h = (0 if c2s else 1) | (2 if flags & 2 else 0) | (4 if flags & 16 else 0) \
                | (8 if flags & 1 else 0) | (16 if flags & 4 else 0) | ((stream & 3) << 5)
            chunks = [payload[i:i + 255] for i in range(0, len(payload), 255)] or [b""]
            for i, c in enumerate(chunks):
                hh = h if i == 0 else h & ~(2 | 8)
                tcp_seed += bytes([hh, 0, 0, len(c)]) + c
            if len(tcp_seed) > 60_000:
                break
        put("tcp", bytes(tcp_seed))
        for (stream, c2s), data in streams.items():
            if not data:
                continue
            data = bytes(data[:65536])
            put("http", bytes([len(data) % 256]) + data)
            # After an HTTP upgrade the stream is WebSocket frames: seed both roles and extensions.
            head_end = data.find(b"\r\n\r\n")
            if b" 101 " in data[:64] or b"Upgrade: websocket" in data[:head_end] or b"upgrade: websocket" in data[:head_end]:
                frames = data[head_end + 4:] if head_end >= 0 else data
                for ext in (0, 1, 3):
                    put("ws_frames", bytes([ext | (0x04 if c2s else 0), 128]) + frames)
            else:
                # Polling bodies: everything after each header block, for the payload decoders.
                for part in data.split(b"\r\n\r\n")[1:]:
                    body = part.split(b"HTTP/1.1")[0].split(b"GET /")[0].split(b"POST /")[0]
                    if body:
                        for sel in (0, 1, 2, 0x81):
                            put("engineio", bytes([sel]) + body[:4096])
                        put("socketio", body[:4096])
    for p in sorted((ROOT / "fixtures").rglob("*.har")):
        put("har", p.read_bytes())
    for p in sorted((ROOT / "fixtures" / "log").glob("*.log")):
        put("log", p.read_bytes())
    for s in ("1", "1.5", "64k", "64KiB", "16MiB", "1g", "30s", "1.5m", "250ms", "2h", "0", ""):
        put("units", s.encode())
    for t in sorted(CORPUS.iterdir()):
        print(f"{t.name}: {len(list(t.iterdir()))} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
