"""What psycopg costs to send a batch's event payloads as one array parameter: text against binary.

`live.services.record_queued` sends a batch's events to PostgreSQL as arrays (names, audiences, JSON
payloads) in one statement. In text format psycopg escapes each element's quotes and backslashes with a
regular expression, and a JSON payload is mostly quotes; in binary each element goes as it is.
This sends 100 payloads shaped like an interest's staff event, 500 times each way, and prints this
process's CPU per statement (psycopg's side: what a server's worker pays).

Usage: .venv/bin/python bench/pg_arrays.py [postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import json
import sys
import time

import psycopg

PAYLOAD = {"id": 123456, "client_id": "ing-r1-12-0", "session_id": 7, "project_id": 12, "organisation_id": 44,
           "user_id": 99, "lead_id": 555, "level": "intent", "note": "Land near the port, 50 mu", "pitch_second": 1234,
           "attachment": None, "created_at": "2026-12-05T17:00:00+00:00", "organisation": "Shijiazhuang Commerce Bureau",
           "organisation_i18n": {"zh": "石家庄市商务局", "en": "Shijiazhuang Commerce Bureau"}, "user": "Li Wei"}


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1/test"
    payloads = [json.dumps({**PAYLOAD, "id": n}) for n in range(100)]
    with psycopg.connect(url, autocommit=True) as conn:
        for name, placeholder in (("text", "%(p)s"), ("binary", "%(p)b")):
            query = f"SELECT count(*) FROM unnest({placeholder}::text[])"
            for _ in range(50):
                conn.execute(query, {"p": payloads})
            start = time.process_time()
            for _ in range(500):
                conn.execute(query, {"p": payloads})
            print(f"{name}: {(time.process_time() - start) * 1000 / 500:.3f} CPU-ms per statement of 100 payloads")


if __name__ == "__main__":
    main()
