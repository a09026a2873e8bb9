#!/usr/bin/env python3
"""A small Prometheus exporter for one Redis, for the integration tests: each scrape of GET /metrics
sends INFO over RESP to Redis and answers with what the tuning test reads, in the text format.

Usage: redis_exporter.py REDIS_PORT PORT_FILE
Listens on 127.0.0.1 and an ephemeral port, which it writes to PORT_FILE once it serves.
"""

import http.server
import os
import socket
import sys

# INFO field -> (metric, type, help). Counters get _total, as Prometheus names them.
FIELDS = {
    "keyspace_hits": ("redis_keyspace_hits_total", "counter", "Lookups of keys that were there."),
    "keyspace_misses": ("redis_keyspace_misses_total", "counter", "Lookups of keys that were not there."),
    "evicted_keys": ("redis_evicted_keys_total", "counter", "Keys evicted to stay under maxmemory."),
    "total_commands_processed": ("redis_commands_processed_total", "counter", "Commands run."),
    "used_memory": ("redis_memory_used_bytes", "gauge", "Memory Redis has allocated."),
    "maxmemory": ("redis_memory_max_bytes", "gauge", "The maxmemory setting (0: no limit)."),
    "instantaneous_ops_per_sec": ("redis_instantaneous_ops_per_second", "gauge", "Redis's own recent ops/s."),
}


def read_line(reader):
    line = reader.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("the connection closed mid-reply")
    return line[:-2]


def info(port):
    """INFO's fields as a dict of strings, plus db0's key count."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"*1\r\n$4\r\nINFO\r\n")
        reader = s.makefile("rb")
        header = read_line(reader)
        if header[:1] == b"-":
            raise ConnectionError(header[1:].decode(errors="replace"))
        if header[:1] != b"$":
            raise ConnectionError(f"unexpected reply {header[:20]!r}")
        size = int(header[1:])
        body = reader.read(size + 2)[:size].decode(errors="replace")
    fields = {}
    for line in body.splitlines():
        if ":" in line and not line.startswith("#"):
            key, value = line.split(":", 1)
            fields[key] = value
    keys = 0
    for part in fields.get("db0", "").split(","):
        if part.startswith("keys="):
            keys = int(part[5:])
    fields["db0_keys"] = str(keys)
    return fields


def exposition(fields):
    out = []
    for field, (name, kind, help_text) in FIELDS.items():
        if field in fields:
            out.append(f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n{name} {fields[field]}\n")
    out.append(f"# HELP redis_db_keys Keys in db0.\n# TYPE redis_db_keys gauge\nredis_db_keys {fields['db0_keys']}\n")
    return "".join(out)


def main():
    redis_port, port_file = int(sys.argv[1]), sys.argv[2]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            try:
                body = exposition(info(redis_port)).encode()
                status = 200
            except (OSError, ValueError) as e:
                body, status = f"cannot read INFO: {e}\n".encode(), 503
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    temporary = port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(temporary, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
