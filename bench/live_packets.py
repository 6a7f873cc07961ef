"""What writing one live packet costs: python-socketio's own packet class against the one the app's
server uses (`app.live.wire.LivePacket`), in the same run, for the packets a fair sends most: a join's
acknowledgement (the first `LIVE_JOIN_QUESTIONS` questions, or none), a question's broadcast and an
interest's acknowledgement. Each figure is the median of --repeats alternating timings (process CPU
per packet, µs); the ratio is the app's class ÷ python-socketio's.

    .venv/bin/python bench/live_packets.py [--repeats 7] [--number 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path[0] = os.getcwd()  # the tree measured


def _question(n: int) -> dict:
    """A question as `live.services.question_dict` gives it to a joiner (with the joiner's marks)."""
    return {"id": n, "session_id": 2, "client_id": f"q-{n:08x}",
            "text": "What land price does the Shijiazhuang high-tech zone offer for a membrane plant?",
            "status": "open", "pinned": False, "votes": n % 7, "author": "Zhao Min",
            "organisation": "Shijiazhuang Commerce Bureau",
            "organisation_i18n": {"zh": "石家庄市商务局", "en": "Shijiazhuang Commerce Bureau"},
            "created_at": "2026-12-06T01:02:03.456789+00:00", "updated_at": "2026-12-06T01:02:03.456789+00:00",
            "mine": False, "voted": n % 3 == 0}


def _join_ack(questions: int) -> dict:
    interest = {"id": 41, "client_id": "i-41", "project_id": 1, "level": "high", "note": "Land near Tangshan port",
                "user": "Zhao Min", "created_at": "2026-12-06T01:02:03+00:00"}
    return {"ok": True, "seq": 57, "staff": False, "session_id": 2, "mine": [3], "voted": [6, 9],
            "my_interests": {"1": {"level": "high", "items": [interest]}}, "reset": False,
            "questions": [_question(n) for n in range(questions)], "questions_more": questions >= 20,
            "interest_counts": {"1": 12, "2": 4}, "presence": 812}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()

    from socketio import packet
    from socketio.packet import Packet

    from app import create_app
    from app.extensions import socketio

    from config import TestConfig

    create_app(TestConfig)  # the server as the app configures it (no database is read)
    ours = socketio.server.packet_class
    cases = {
        "join acknowledgement, 20 questions": (packet.ACK, [_join_ack(20)], 7),
        "join acknowledgement, no question": (packet.ACK, [_join_ack(0)], 7),
        "question broadcast": (packet.EVENT, ["question", {**_question(1), "seq": 58}], None),
        "interest acknowledgement": (packet.ACK, [{"ok": True, "id": 901, "client_id": "i-901", "project_id": 1,
                                                   "level": "high", "duplicate": False, "lead_id": 77,
                                                   "interest_counts": {"1": 13}}], 9),
    }
    print(f"| packet | bytes (python-socketio / app) | python-socketio µs | app ({ours.__name__}) µs | app ÷ python-socketio |")
    print("|---|---|---:|---:|---:|")
    for name, (kind, data, ack_id) in cases.items():
        def write(cls):
            return cls(kind, namespace="/live", data=data, id=ack_id).encode()

        timings: dict = {Packet: [], ours: []}
        for _ in range(args.repeats):
            for cls in (Packet, ours):
                start = time.process_time()
                for _ in range(args.number):
                    write(cls)
                timings[cls].append((time.process_time() - start) / args.number * 1e6)
        theirs, mine = statistics.median(timings[Packet]), statistics.median(timings[ours])
        sizes = f"{len(write(Packet).encode())} / {len(write(ours).encode())}"
        print(f"| {name} | {sizes} | {theirs:.1f} | {mine:.1f} | {mine / theirs:.2f} |")


if __name__ == "__main__":
    main()
