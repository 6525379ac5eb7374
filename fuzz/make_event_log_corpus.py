#!/usr/bin/python3
"""Seeds of fuzz/corpus/event_log: event log segments (stream/event_log.h)
behind the target's two selector bytes (split point, second segment's first
sequence). Usage: fuzz/make_event_log_corpus.py (from any directory)."""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def header(first):
    head = struct.pack("<IIQ", 0x56455247, 1, first)
    return head + struct.pack("<II", zlib.crc32(head), 0)


def record(sequence, kind, actor, obj, time=1700000000, interaction=0, dwell=0):
    body = struct.pack("<BBHIIQQ", kind, interaction, 0, time, dwell, actor, obj)
    return body + struct.pack("<I", zlib.crc32(body, zlib.crc32(struct.pack("<Q", sequence))))


def segment(first, events):
    return header(first) + b"".join(record(first + i, *e) for i, e in enumerate(events))


EVENTS = [(1, 10, 20), (3, 10, 900, 1700000001, 2, 1500), (4, 20, 901), (5, 30, 0), (2, 10, 20)]
seeds = {
    "one_segment": bytes([255, 0]) + segment(0, EVENTS),
    "two_segments": bytes([128, 2]) + segment(0, EVENTS[:2]) + segment(2, EVENTS[2:4]),
    "torn_tail": bytes([255, 0]) + segment(0, EVENTS[:3]) + b"\x7f" * 13,
    "empty_segment": bytes([255, 0]) + header(0),
}
os.makedirs(os.path.join(HERE, "corpus", "event_log"), exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(HERE, "corpus", "event_log", name), "wb") as out:
        out.write(data)
