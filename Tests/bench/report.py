#!/usr/bin/env python3
"""scripts/bench's arithmetic, so the shell script only runs things.

    report.py wrk FILE           parse one `wrk --latency` output: prints `rps p50_ms p99_ms non2xx socket_errors`
    report.py table RESULTS      print the table from scripts/bench's results file

The results file has one record per line, fields separated by tabs:
    run  <key> <rps> <p50_ms> <p99_ms>       one wrk run (key like bridges/bridges/c64)
    val  <key> <value>                        any other figure (rss_idle_kb, sessions_created, ...)
"""
import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def parse_wrk(path):
    text = open(path, errors="replace").read()
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    p50 = re.search(r"^\s*50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = sum(int(x) for x in sock.groups()) if sock else 0
    print(
        f"{float(rps.group(1)) if rps else 0:.1f} {ms(p50.group(1)) if p50 else float('nan'):.3f} "
        f"{ms(p99.group(1)) if p99 else float('nan'):.3f} {int(non2xx.group(1)) if non2xx else 0} {socket_errors}")


def table(path):
    runs, vals = {}, {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "run":
            runs[f[1]] = (float(f[2]), float(f[3]), float(f[4]))
        elif f[0] == "val":
            vals[f[1]] = f[2]

    def fmt_rps(x):
        return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"

    def fmt_ms(x):
        return "n/a" if x != x else (f"{x:.2f}" if x < 10 else f"{x:.0f}")

    def ratio(a, b):
        return f"{a / b:.2f}x" if b else "n/a"

    rows = []
    header = ("request", "server", "req/s c64", "p50 ms", "p99 ms", "req/s c1", "p50 ms c1", "c64/c1", "vs ceiling")
    targets = [("bridges", "GET /v1/bridges"), ("accounts", "GET /v1/accounts"),
               ("login-flows", "GET …/demo-password/login-flows"), ("info", "GET /v1/info")]
    for key, label in targets:
        for server, ceiling in (("bridges", "nginx"), ("nginx", None)):
            c64, c1 = runs.get(f"{server}/{key}/c64"), runs.get(f"{server}/{key}/c1")
            if not c64 or not c1:
                continue
            ceil = runs.get(f"{ceiling}/{key}/c64") if ceiling else None
            size = vals.get(f"bytes_{key}")
            rows.append((f"{label} ({size} B)" if server == "bridges" and size else ("" if server == "nginx" else label),
                         "Bridges" if server == "bridges" else "nginx",
                         fmt_rps(c64[0]), fmt_ms(c64[1]), fmt_ms(c64[2]), fmt_rps(c1[0]), fmt_ms(c1[1]),
                         ratio(c64[0], c1[0]), ratio(c64[0], ceil[0]) + " nginx" if ceil else ""))
    fake_direct, fake_through = "fake/direct", "fake/through"
    for server, name in ((fake_through, "Bridges"), (fake_direct, "fake bridge")):
        c64, c1 = runs.get(f"{server}/c64"), runs.get(f"{server}/c1")
        if not c64 or not c1:
            continue
        peer = runs.get(f"{fake_direct}/c64")
        rows.append(("mautrix login-flows" if server == fake_through else "", name,
                     fmt_rps(c64[0]), fmt_ms(c64[1]), fmt_ms(c64[2]), fmt_rps(c1[0]), fmt_ms(c1[1]),
                     ratio(c64[0], c1[0]), ratio(c64[0], peer[0]) + " bridge" if server == fake_through else ""))
    live = runs.get("bridges/bridges-live/c64")
    base = runs.get("bridges/bridges/c64")
    if live:
        n = vals.get("sessions_live", "?")
        rows.append((f"GET /v1/bridges, {n} sessions live", "Bridges", fmt_rps(live[0]), fmt_ms(live[1]),
                     fmt_ms(live[2]), "", "", "", (f"{(live[0] / base[0] - 1) * 100:+.0f}% vs idle" if base else "")))

    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))

    if "sessions_created" in vals:
        print()
        created = int(vals["sessions_created"])
        secs = float(vals["sessions_seconds"])
        print(f"POST …/demo-password/login-sessions ({vals.get('sessions_connections')} connections): "
              f"{created} sessions in {secs:.1f} s = {created / secs:,.0f}/s overall"
              f"; first chunk {float(vals['sessions_rate_first']):,.0f}/s, last chunk {float(vals['sessions_rate_last']):,.0f}/s"
              f", p99 of last chunk {fmt_ms(float(vals.get('sessions_p99_last', 'nan')))} ms")
        idle, live_kb = int(vals["rss_idle_kb"]), int(vals["rss_live_kb"])
        delta = live_kb - idle
        print(f"resident memory: {idle / 1024:.1f} MB idle, {live_kb / 1024:.1f} MB with {created} live sessions: "
              f"+{delta / 1024:.1f} MB, {delta * 1024 / max(created, 1) / 1024:.1f} KB per session")


if __name__ == "__main__":
    {"wrk": parse_wrk, "table": table}[sys.argv[1]](sys.argv[2])
