"""The web page in a real browser: signing in, every kind of login step, live updates on
/v1/ws, reconnecting and removing, what a signed-out browser and another site get, and an
accessibility check and screenshots of every screen (.build/web-screenshots). The tests run in
order and share one browser and one server, as a person's visit would."""
import http.server
import subprocess
import threading
import urllib.request

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import SHOTS


def connection_state(page):
    try:
        return page.driver.find_element(By.ID, "connection").get_attribute("data-state")
    except Exception:
        return None


def wait_live(page):
    page.wait(lambda: connection_state(page) == "live", "the page did not start following /v1/ws")


def bridge_card(page, bridge_id):
    return page.driver.find_element(By.ID, f"bridge-{bridge_id}").text


def qr_payload(page):
    try:
        return page.driver.find_element(By.ID, "qr-payload").get_attribute("textContent")
    except Exception:
        return None


def decode_qr(page):
    """Reads the QR code on screen with a real decoder, from a screenshot."""
    shot = SHOTS / "qr-decode.png"
    for _ in range(20):
        before = qr_payload(page)
        page.driver.save_screenshot(str(shot))
        after = qr_payload(page)
        result = subprocess.run(["zbarimg", "--quiet", "--raw", str(shot)], capture_output=True, text=True, timeout=30)
        decoded = result.stdout.strip()
        # Read between two refreshes: what was on screen is what the page says it holds.
        if before and before == after and decoded:
            assert decoded == before, f"the QR code on screen holds {decoded!r}, the page says {before!r}"
            return decoded
    raise AssertionError("no QR code could be read from the screen")


def in_new_tab(page, open_it, check):
    """Opens something in a new tab (as a phone or a second window would), checks it, and
    comes back to the page, which must not have been reloaded in between."""
    main = page.driver.current_window_handle
    before = set(page.driver.window_handles)
    open_it()
    page.wait(lambda: len(page.driver.window_handles) > len(before), "no new tab opened")
    new = (set(page.driver.window_handles) - before).pop()
    page.driver.switch_to.window(new)
    result = check()
    page.driver.close()
    page.driver.switch_to.window(main)
    return result


def open_url_in_new_tab(page, url):
    def opened():
        page.driver.switch_to.new_window("tab")
    main = page.driver.current_window_handle
    opened()
    page.driver.get(url)
    text = page.text()
    page.driver.close()
    page.driver.switch_to.window(main)
    return text


def tab_to(page, predicate, limit=80):
    """Presses Tab until the focused element is the one wanted: the keyboard is all there is."""
    for _ in range(limit):
        ActionChains(page.driver).send_keys(Keys.TAB).perform()
        element = page.driver.switch_to.active_element
        try:
            if predicate(element):
                return element
        except StaleElementReferenceException:
            continue
    raise AssertionError("Tab never reached the element")


def sign_in(page, server):
    page.wait_heading("Sign in to Bridges")
    page.field("Access token").send_keys(server.token)
    page.click("Sign in")
    page.wait(lambda: not page.path().startswith("/signin"), "signing in did not leave the sign-in page")


def test_signing_in_with_a_token(page, server):
    page.go("/")
    page.wait(lambda: page.path().startswith("/signin"), "a signed-out browser was not sent to sign in")
    page.wait_heading("Sign in to Bridges")
    page.screen("sign-in")
    page.field("Access token").send_keys("not-a-token")
    page.click("Sign in")
    page.wait(lambda: "That access token is not valid" in page.text(), "a wrong token was not refused in words")
    page.screen("sign-in-refused")
    sign_in(page, server)
    page.wait_heading("Chat networks")
    cookie = page.driver.get_cookie("bridges_page")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP on loopback; HTTPS sets it
    assert cookie["value"] != server.token
    wait_live(page)
    page.screen("networks")


def test_connecting_demo_password(page):
    page.click("Connect an account on Demo Password")
    page.wait_heading("Connect Demo Password")
    page.screen("choose-how")
    page.click("Password")
    page.wait_heading("Sign in to Demo Password")
    page.field("Username").send_keys("alice")
    page.field("Password").send_keys("secret")
    assert page.field("Password").get_attribute("type") == "password"
    page.screen("user-input")
    page.click("Continue")
    page.wait_heading("Connected to Demo Password")
    assert "alice is connected." in page.text()
    page.screen("connected")


def test_a_two_factor_login_with_the_keyboard_only(page):
    page.go("/")
    page.wait_heading("Chat networks")
    tab_to(page, lambda e: (e.get_attribute("href") or "").endswith("/connect/demo-password")).send_keys(Keys.ENTER)
    page.wait_heading("Connect Demo Password")
    tab_to(page, lambda e: e.tag_name == "button" and e.text == "Password").send_keys(Keys.ENTER)
    page.wait_heading("Sign in to Demo Password")
    tab_to(page, lambda e: e.get_attribute("id") == page.field("Username").get_attribute("id")).send_keys("bob2fa")
    ActionChains(page.driver).send_keys(Keys.TAB).send_keys("secret").send_keys(Keys.ENTER).perform()
    page.wait(lambda: any(l.text == "Two-factor code" for l in page.driver.find_elements(By.TAG_NAME, "label")),
              "the second step did not ask for the code")
    code = page.field("Two-factor code")
    assert code.get_attribute("autocomplete") == "one-time-code"
    page.screen("two-factor")
    tab_to(page, lambda e: e.get_attribute("id") == code.get_attribute("id")).send_keys("123456" + Keys.ENTER)
    page.wait_heading("Connected to Demo Password")
    assert "bob2fa is connected." in page.text()


def test_a_wrong_password_says_so(page):
    page.go("/connect/demo-password")
    page.click("Password")
    page.wait_heading("Sign in to Demo Password")
    page.field("Username").send_keys("carol")
    page.field("Password").send_keys("wrong-password")
    page.click("Continue")
    page.wait_heading("Wrong username or password")
    assert "The username or password is incorrect." in page.text()
    page.control("Start again")
    page.screen("wrong-password")
    page.click("Start again")
    page.wait_heading("Sign in to Demo Password")


def test_a_qr_login_shows_the_refreshed_code_and_completes_live(page):
    page.go("/connect/demo-messenger")
    page.wait_heading("Connect Demo Messenger")
    page.click("QR code")
    page.wait_heading("Scan the QR code")
    wait_live(page)
    page.mark()
    first = decode_qr(page)
    assert first.startswith(page.server.base + "/demo/scan/")
    page.screen("qr-code")
    # The demo replaces its code every 4 s; the page draws each new one without a reload.
    page.wait(lambda: qr_payload(page) not in (None, first), "the QR code was never replaced")
    second = decode_qr(page)
    assert second != first
    assert page.not_reloaded()
    # The "phone" scans what the screen shows.
    assert "Done" in open_url_in_new_tab(page, second)
    page.wait_heading("Connected to Demo Messenger")
    assert page.not_reloaded()
    assert "Demo Phone is connected." in page.text()
    page.screen("qr-connected")


def approve_through_the_instructions_link(page):
    link = page.driver.find_element(By.CSS_SELECTOR, ".instructions a")
    assert link.get_attribute("target") == "_blank"
    in_new_tab(page, link.click, lambda: page.wait(lambda: "Done" in page.text(), "the approval page did not answer"))


def test_pairing_code_emoji_and_approval_as_reconnects(page):
    page.go("/")
    page.wait_heading("Chat networks")
    assert "Connect an account on Demo Messenger" not in [" ".join((a.get_attribute("textContent") or "").split()) for a in page.driver.find_elements(By.TAG_NAME, "a")]
    page.go("/connect/demo-messenger")
    page.wait(lambda: "Demo Messenger already has an account" in page.text(), "a second account was not refused in words")
    page.screen("one-account-only")

    page.go("/")
    page.click("Reconnect Demo Phone")
    page.wait_heading("Reconnect Demo Phone on Demo Messenger")
    page.click("Pairing code")
    page.wait_heading("Sign in to Demo Messenger")
    phone = page.field("Phone number")
    assert phone.get_attribute("type") == "tel"
    phone.send_keys("+15550100")
    page.click("Continue")
    page.wait_heading("Enter this code on your phone")
    wait_live(page)
    page.mark()
    assert page.driver.find_element(By.CSS_SELECTOR, ".code-text").text.count("-") == 1
    page.screen("pairing-code")
    approve_through_the_instructions_link(page)
    page.wait_heading("Connected to Demo Messenger")
    assert page.not_reloaded()

    page.go("/")
    page.click("Reconnect Demo Phone")
    page.click("Emoji")
    page.wait_heading("Confirm the emoji")
    wait_live(page)
    page.mark()
    image = page.driver.find_element(By.CSS_SELECTOR, ".emoji img")
    assert image.get_attribute("alt")
    assert page.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image)
    page.screen("emoji")
    approve_through_the_instructions_link(page)
    page.wait_heading("Connected to Demo Messenger")
    assert page.not_reloaded()

    page.go("/")
    page.click("Reconnect Demo Phone")
    page.click("Approve on phone")
    page.wait_heading("Waiting for approval")
    wait_live(page)
    page.mark()
    page.screen("waiting")
    # The demo approves by itself after 5 s; the page learns it from /v1/ws.
    page.wait_heading("Connected to Demo Messenger")
    assert page.not_reloaded()


def test_a_cookies_login_through_a_pasted_curl_command(page, server):
    page.go("/")
    page.click("Connect an account on Demo Cookies")
    page.wait_heading("Connect Demo Cookies")
    page.click("Browser")
    page.wait_heading("Sign in to Demo Cookies in your browser")
    page.screen("cookies")

    def sign_in_there():
        page.wait(lambda: page.driver.find_elements(By.NAME, "name"), "the sign-in page did not open")
        name = page.driver.find_element(By.NAME, "name")
        name.clear()
        name.send_keys("dave")
        name.submit()
        page.wait(lambda: "Signed in" in page.text(), "the demo sign-in did not finish")
        values = [c.text for c in page.driver.find_elements(By.CSS_SELECTOR, "li code:last-child")]
        return page.driver.current_url, values
    url, (session, csrf, token) = in_new_tab(page, page.control("the sign-in page (opens in a new tab)").click, sign_in_there)

    # What Chromium's Network tab → Copy as cURL (bash) writes for that request.
    curl = (f"curl '{url}' \\\n"
            "  -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' \\\n"
            "  -H 'Accept-Language: en-US,en;q=0.9' \\\n"
            f"  -b 'demo_session={session}; theme=dark' \\\n"
            f"  -H 'X-Demo-CSRF: {csrf}' \\\n"
            "  -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' \\\n"
            "  --compressed")
    page.field("Copied cURL command").send_keys(curl)
    page.click("Fill in from the cURL command")
    page.wait(lambda: "Filled in from the cURL command: cookie demo_session, request header X-Demo-CSRF." in page.text(),
              "the cURL command did not fill the boxes")
    assert page.field("Cookie demo_session").get_attribute("value") == session
    assert page.field("Request header X-Demo-CSRF").get_attribute("value") == csrf
    assert "Still to fill in: local storage entry demo_token." in page.text()
    page.field("Local storage entry demo_token").send_keys(token)
    page.screen("cookies-filled")
    page.click("Connect")
    page.wait_heading("Connected to Demo Cookies")
    assert "dave is connected." in page.text()


def test_reconnecting_and_removing_an_account(page, server):
    page.go("/")
    page.wait_heading("Chat networks")
    wait_live(page)
    page.mark()
    server.api("POST", "/demo/accounts/demo-password_alice/reconnect-required")
    page.wait(lambda: "Sign in again" in bridge_card(page, "demo-password"), "the account's new status did not show up live")
    assert page.not_reloaded()
    page.screen("reconnect-required")
    page.click("Reconnect alice")
    page.wait_heading("Reconnect alice on Demo Password")
    page.click("Password")
    page.wait_heading("Sign in to Demo Password")
    page.field("Username").send_keys("alice")
    page.field("Password").send_keys("secret")
    page.click("Continue")
    page.wait_heading("Connected to Demo Password")
    page.go("/")
    page.wait(lambda: "Sign in again" not in bridge_card(page, "demo-password"), "the reconnected account still needs a sign-in")

    page.click("Remove alice")
    page.wait_heading("Remove alice from Demo Password?")
    assert "This removes the login alice and the account it holds:" in page.text()
    page.field("Only from Bridges")
    page.field("Sign out everywhere").click()
    page.screen("remove")
    page.click("Remove alice")
    page.wait_heading("Chat networks")
    assert "Removed alice from Demo Password." in page.text()
    assert "alice" not in bridge_card(page, "demo-password")
    logins = server.api("GET", "/v1/bridges/demo-password/logins")["items"]
    assert "alice" not in [login["loginID"] for login in logins]


def test_a_cross_site_form_post_is_refused(page, server):
    page.go("/")
    page.wait_heading("Chat networks")
    csrf = page.driver.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    # Another site on the same host (another port is another origin, yet the same site, so the
    # browser even sends the cookie): it knows the form's token and still gets nowhere.
    attack = (f'<!doctype html><form id="f" method="post" action="{server.base}/accounts/demo-messenger/phone-15550100/remove">'
              f'<input name="csrf" value="{csrf}"><input name="scope" value="all-devices"></form>'
              '<script>document.getElementById("f").submit()</script>').encode()

    class Attacker(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(attack)

        def log_message(self, *args):
            pass

    attacker = http.server.HTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        page.driver.get(f"http://127.0.0.1:{attacker.server_address[1]}/")
        page.wait_heading("Request refused")
    finally:
        attacker.shutdown()
    page.screen("refused")
    page.go("/")
    page.wait_heading("Chat networks")
    assert "Demo Phone" in bridge_card(page, "demo-messenger")


def test_every_page_sends_the_security_headers(page, server):
    cookie = page.driver.get_cookie("bridges_page")["value"]
    for path in ["/", "/connect/demo-password", "/signin?next=%2F"]:
        request = urllib.request.Request(server.base + path, headers={"Cookie": f"bridges_page={cookie}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            policy = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
            assert "unsafe-inline" not in policy
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Cache-Control"] == "no-store"
            assert server.token not in response.read().decode()


def test_a_lost_connection_shows_and_recovers(page, server):
    page.go("/")
    page.wait_heading("Chat networks")
    wait_live(page)
    server.stop()
    page.wait(lambda: connection_state(page) == "offline", "the page did not show that the connection was lost")
    assert "Lost the connection to Bridges. Reconnecting…" in page.text()
    page.screen("connection-lost")
    server.start()
    # The restarted server has no page sessions (they live in memory): the page says so.
    page.wait(lambda: page.path().startswith("/signin"), "the page did not find its way back after the restart", timeout=60)
    assert "Your session on this page ended." in page.text()
    sign_in(page, server)
    page.wait_heading("Chat networks")
    wait_live(page)


def test_signing_out_makes_the_page_unusable(page):
    page.click("Sign out")
    page.wait_heading("Sign in to Bridges")
    assert "You signed out." in page.text()
    assert page.driver.get_cookie("bridges_page") is None
    for path in sorted(set(page.visited) | {"/", "/connect/demo-password", "/accounts/demo-password/bob2fa/remove"}):
        page.go(path)
        page.wait_heading("Sign in to Bridges")
    page.driver.back()
    page.wait_heading("Sign in to Bridges")


def test_the_token_is_nowhere_in_the_browser(page, server):
    page.go("/signin")
    page.collect_urls()
    assert page.urls, "the browser's log of requests is empty"
    assert not [url for url in page.urls if server.token in url]
    assert not [source for source in page.sources if server.token in source]
    stored = page.driver.execute_script("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage);")
    assert server.token not in stored
    assert not [c for c in page.driver.get_cookies() if server.token in c["value"]]
