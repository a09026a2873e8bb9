#!/usr/bin/env python3
"""A small Prometheus exporter for PgBouncer (and PostgreSQL), for tests/agent/pgbouncer_tuning_test.py
and postgres_tuning_test.py: every GET /metrics runs SHOW STATS and SHOW POOLS on PgBouncer's admin
console through psql (or, with --postgres, reads pg_stat_database from the server the PG* variables
name) and answers in the Prometheus text format (503 when the server does not answer).

Usage: pg_exporter.py PORT_FILE (--port BOUNCER_PORT [--user USER] [--database DB] | --postgres)
Writes the port it listens on (127.0.0.1, ephemeral) to PORT_FILE once it serves.
"""

import argparse
import http.server
import os
import subprocess
import sys


def console(args, *commands):
    """The rows of each SHOW command, as dicts by column name, from one psql run."""
    env = dict(os.environ, PGCONNECT_TIMEOUT="2")
    env.pop("PGDATABASE", None)
    argv = ["psql", "-h", "127.0.0.1", "-p", str(args.port), "-U", args.user, "-d", "pgbouncer", "-X", "-A", "-F", "|",
            "-P", "footer=off"]
    for command in commands:
        argv += ["-c", command]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=3, env=env)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    tables = []
    for line in result.stdout.splitlines():
        if line.startswith("database|"):  # each SHOW's header row starts with its database column
            tables.append((line.split("|"), []))
        elif line and tables:
            tables[-1][1].append(dict(zip(tables[-1][0], line.split("|"))))
    if len(tables) != len(commands):
        raise RuntimeError("unexpected psql output")
    return [rows for _, rows in tables]


def postgres_metrics():
    env = dict(os.environ, PGCONNECT_TIMEOUT="2")
    result = subprocess.run(["psql", "-X", "-A", "-t", "-c",
                             "SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database"],
                            capture_output=True, text=True, timeout=3, env=env)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return ("# HELP pg_xact_total Transactions the server committed or rolled back.\n"
            "# TYPE pg_xact_total counter\n"
            f"pg_xact_total {int(result.stdout.strip())}\n")


def metrics(args):
    if args.postgres:
        return postgres_metrics()
    stats, pools = console(args, "SHOW STATS", "SHOW POOLS")
    stats = [row for row in stats if row["database"] == args.database]
    pools = [row for row in pools if row["database"] == args.database]
    total = lambda rows, key: sum(int(row[key]) for row in rows)
    lines = [
        "# HELP pgbouncer_xact_total Transactions PgBouncer pooled.",
        "# TYPE pgbouncer_xact_total counter",
        f"pgbouncer_xact_total {total(stats, 'total_xact_count')}",
        "# HELP pgbouncer_wait_seconds_total Time clients spent waiting for a server.",
        "# TYPE pgbouncer_wait_seconds_total counter",
        f"pgbouncer_wait_seconds_total {total(stats, 'total_wait_time') / 1e6}",
        "# HELP pgbouncer_clients_waiting Clients waiting for a server now.",
        "# TYPE pgbouncer_clients_waiting gauge",
        f"pgbouncer_clients_waiting {total(pools, 'cl_waiting')}",
        "# HELP pgbouncer_servers_active Server connections in use now.",
        "# TYPE pgbouncer_servers_active gauge",
        f"pgbouncer_servers_active {total(pools, 'sv_active')}",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file")
    parser.add_argument("--port", type=int)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--user", default="trimtab_admin")
    parser.add_argument("--database", default="postgres")
    args = parser.parse_args()
    if not args.postgres and args.port is None:
        parser.error("give --port (PgBouncer) or --postgres")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            try:
                body, status = metrics(args).encode(), 200
            except Exception as e:  # PgBouncer stopped or slow: the agent sees a failed scrape
                body, status = f"pgbouncer: {e}\n".encode(), 503
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the scraper gave up (its timeout) and closed the connection
                pass

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
