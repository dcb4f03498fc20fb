"""Checks what the load run's subscribers saw against the logins the server completed.

    python3 check_subscribers.py LOGINS_JSON SUBSCRIBERS_JSON COUNT

LOGINS_JSON is `GET /v1/bridges/demo-password/logins` after the measured run; the completed logins
are its `load-measured-*` ones (see run.sh). Every subscriber must have seen each exactly once as a
`login-session.updated` with status `complete` and exactly once as a `login.upserted`, and nothing
else with that prefix; no `error` message, no socket closed early, no gap in `seq`.
Prints `ok|no LOGINS EVENTS` on stdout, the problems on stderr.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

PREFIX = "load-measured-"


def main() -> None:
    logins = [l["loginID"] for l in json.load(open(sys.argv[1]))["items"] if l["loginID"].startswith(PREFIX)]
    subscribers = json.load(open(sys.argv[2]))
    expected = Counter(logins)
    problems = []
    if len(subscribers) != int(sys.argv[3]):
        problems.append(f"{len(subscribers)} subscribers reported, not {sys.argv[3]}")
    for s in subscribers:
        for field in ("completed", "upserted"):
            seen = Counter(s[field])
            if seen != expected:
                missing = sorted((expected - seen).elements())
                extra = sorted((seen - expected).elements())
                problems.append(
                    f"subscriber {s['index']} {field}: {len(missing)} missing {missing[:3]}, "
                    f"{len(extra)} extra or repeated {extra[:3]}")
        if s["errors"]:
            problems.append(f"subscriber {s['index']}: error messages {s['errors'][:2]}")
        if s["closed"]:
            problems.append(f"subscriber {s['index']}: closed early: {s['closed']}")
        if s["seq_gaps"]:
            problems.append(f"subscriber {s['index']}: {s['seq_gaps']} gaps in seq")
    events = sum(s["events"] for s in subscribers)
    print(f"{'ok' if logins and not problems else 'no'} {len(logins)} {events}")
    for p in problems[:10]:
        print(f"load:   {p}", file=sys.stderr)
    if len(problems) > 10:
        print(f"load:   ... and {len(problems) - 10} more", file=sys.stderr)


if __name__ == "__main__":
    main()
