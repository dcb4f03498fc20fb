#!/usr/bin/env python3
"""Gives a fresh `bridges serve` the benchmark's data set through its own API: the 4 demo
bridges with 7 logins holding 11 accounts, each made by a complete demo login.

    seed.py BASE_URL TOKEN

demo-password: alice, bob, and carol-2fa (with its second step, the code 123456): 3 logins.
demo-cookies: one browser-cookies login. demo-messenger: one phone login (the `nothing` flow,
which approves itself; start the server with a short demo.nothingDelaySeconds).
demo-workspace: two logins of three workspaces each. 7 logins, 3 + 1 + 1 + 6 = 11 accounts.
Stdlib only; every request has a timeout and every wait is bounded. Exits 1 on anything else.
"""
import json
import sys
import time
import urllib.error
import urllib.request

BASE, TOKEN = sys.argv[1].rstrip("/"), sys.argv[2]


def call(method, path, body=None, expect=200):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + TOKEN)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    if status != expect:
        sys.exit(f"seed: {method} {path} answered {status}: {text[:300]!r}")
    return json.loads(text) if text else None


def session(bridge, flow=None):
    return call("POST", f"/v1/bridges/{bridge}/login-sessions", {"flowID": flow} if flow else {})


def submit(bridge, s, body):
    step = s["currentStep"]["stepID"]
    return call("POST", f"/v1/bridges/{bridge}/login-sessions/{s['loginSessionID']}/steps/{step}", body)


def done(s, what):
    if s.get("status") != "complete":
        sys.exit(f"seed: {what} did not complete: {json.dumps(s)[:300]}")


for name in ("alice", "bob"):
    s = submit("demo-password", session("demo-password"),
               {"type": "user_input", "fields": {"username": name, "password": "secret"}})
    done(s, f"demo-password {name}")
s = submit("demo-password", session("demo-password"),
           {"type": "user_input", "fields": {"username": "carol-2fa", "password": "secret"}})
s = submit("demo-password", s, {"type": "user_input", "fields": {"code": "123456"}})
done(s, "demo-password carol-2fa")

s = session("demo-cookies", "cookies")
s = submit("demo-cookies", s, {"type": "cookies", "source": "api",
                               "fields": {"session": "dave.0123456789abcdef", "csrf": "csrf-0123", "token": "tok-0123"}})
done(s, "demo-cookies dave")

for email in ("erin@example.com", "frank@example.com"):
    s = submit("demo-workspace", session("demo-workspace"),
               {"type": "user_input", "fields": {"email": email, "password": "secret"}})
    done(s, f"demo-workspace {email}")

# The `nothing` display approves itself after demo.nothingDelaySeconds; a display_and_wait submit
# returns as soon as the step changes (or after sessions.displayWaitSeconds). At most 30 s.
s = session("demo-messenger", "nothing")
sid = s["loginSessionID"]
deadline = time.monotonic() + 30
while s.get("status") != "complete" and time.monotonic() < deadline:
    if s.get("status") != "waiting_for_display":
        sys.exit(f"seed: demo-messenger session went {s.get('status')}: {json.dumps(s)[:300]}")
    s = submit("demo-messenger", s, {"type": "display_and_wait"})
done(s, "demo-messenger phone")

bridges = call("GET", "/v1/bridges")["items"]
logins = sum(len(call("GET", f"/v1/bridges/{b['id']}/logins")["items"]) for b in bridges)
accounts = len(call("GET", "/v1/accounts"))  # a bare array
print(f"{len(bridges)} bridges, {logins} logins, {accounts} accounts")
if (len(bridges), logins, accounts) != (4, 7, 11):
    sys.exit("seed: expected 4 bridges, 7 logins, 11 accounts")
