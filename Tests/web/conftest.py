"""Fixtures of the browser test: a `bridges serve` on a free loopback port, and headless
Chromium driven through chromium-driver, with helpers that find things the way a person does
(by label and by visible text) and that screenshot and check every screen."""
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".build" / "web-screenshots"
A11Y = (pathlib.Path(__file__).parent / "a11y.js").read_text()
WAIT = 30  # seconds any one condition may take before the test gives up


class Server:
    """`bridges serve`, which the test can stop and start again on the same port and data."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.data = workdir / "data"
        self.log = workdir / "server.log"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.token = "bt_web_" + secrets.token_urlsafe(32)
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        env = dict(os.environ, BRIDGES_ACCESS_TOKEN=self.token, BRIDGES_DEMO_QR_REFRESH_SECONDS="4",
                   BRIDGES_DEMO_NOTHING_DELAY_SECONDS="5")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data)],
                env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("bridges serve exited: " + self.log.read_text()[-2000:])
            try:
                with urllib.request.urlopen(self.base + "/v1/info", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("bridges serve did not answer within 60 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def api(self, method, path, body=None):
        """A call to the API with the bearer token, as a script would make it (never the browser)."""
        request = urllib.request.Request(
            self.base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")


@pytest.fixture(scope="session")
def server():
    binary = os.environ.get("BRIDGES_BIN", str(ROOT / ".build" / "debug" / "bridges"))
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="bridges-web-"))
    server = Server(binary, workdir)
    server.start()
    yield server
    server.stop()
    if os.environ.get("WEB_KEEP_LOG"):
        print(server.log.read_text())
    shutil.rmtree(workdir, ignore_errors=True)


class Page:
    """The browser, with the few moves the tests make, all bounded waits on conditions."""

    def __init__(self, driver, server):
        self.driver = driver
        self.server = server
        self.sources = []  # every page's HTML, searched for the token at the end
        self.visited = []  # page paths, revisited after signing out
        self.urls = []  # every URL the browser asked for, from its performance log
        self.shots = 0

    # -- finding things as a person does --

    def wait(self, condition, message, timeout=WAIT):
        # A page being replaced (a navigation, a live update) while it is read is read again.
        return WebDriverWait(
            self.driver, timeout, poll_frequency=0.05,
            ignored_exceptions=(StaleElementReferenceException, NoSuchElementException),
        ).until(lambda d: condition(), message)

    def heading(self):
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def wait_heading(self, text, timeout=WAIT):
        def found():
            try:
                return text in self.heading()
            except Exception:
                return False
        self.wait(found, f"no h1 with {text!r}; it is {self.safe_heading()!r}", timeout)

    def safe_heading(self):
        try:
            return self.heading()
        except Exception:
            return "?"

    def find(self, search, what):
        """Waits for `search` to find something; a part of the page replaced by a live update
        while it was being read is read again."""
        def attempt():
            try:
                return search()
            except StaleElementReferenceException:
                return None
        return self.wait(attempt, f"no {what}")

    def field(self, label):
        """The input a visible label names, through the label's `for`."""
        def search():
            for element in self.driver.find_elements(By.TAG_NAME, "label"):
                text = element.text.strip()
                if text == label or text.startswith(label + " ("):
                    return self.driver.find_element(By.ID, element.get_attribute("for"))
            return None
        return self.find(search, f"field labelled {label!r}")

    def control(self, name):
        """The button or link whose text (screen-reader text included) is `name`."""
        def search():
            for element in self.driver.find_elements(By.CSS_SELECTOR, "button, a"):
                if " ".join((element.get_attribute("textContent") or "").split()) == name:
                    return element
            return None
        return self.find(search, f"button or link named {name!r}")

    def click(self, name):
        def attempt():
            try:
                self.control(name).click()
                return True
            except StaleElementReferenceException:
                return False
        self.wait(attempt, f"could not click {name!r}")

    def go(self, path):
        self.driver.get(self.server.base + path)

    def path(self):
        return self.driver.current_url.replace(self.server.base, "")

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def mark(self):
        """Marks the document, so a later check can tell it was not reloaded."""
        self.driver.execute_script("window.__stillHere = true;")

    def not_reloaded(self):
        return self.driver.execute_script("return window.__stillHere === true;")

    # -- what every screen gets --

    def collect_urls(self):
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent":
                self.urls.append(params["request"]["url"])
            elif message.get("method") == "Network.webSocketCreated":
                self.urls.append(params["url"])
            elif message.get("method") == "Page.frameNavigated":
                self.urls.append(params["frame"]["url"])

    def screen(self, name):
        """Checks the screen for accessibility (light and dark, 1280 and 360 px wide) and saves
        its screenshots at 1280×800 (light and dark) and 390×844."""
        self.collect_urls()
        self.sources.append(self.driver.page_source)
        self.visited.append(self.path())
        self.shots += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        stem = f"{self.shots:02d}-{name}"
        problems = []
        for scheme in ("light", "dark"):
            self.emulate(1280, 800, scheme)
            problems += [f"{scheme}: {p}" for p in self.driver.execute_script(A11Y)]
            suffix = "" if scheme == "light" else "-dark"
            self.driver.save_screenshot(str(SHOTS / f"{stem}{suffix}-1280x800.png"))
        self.emulate(360, 740, "light", mobile=True)
        overflow = self.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        if overflow > 0:
            problems.append(f"360 px wide: the page is {overflow} px wider than the screen")
        self.emulate(390, 844, "light", mobile=True)
        self.driver.save_screenshot(str(SHOTS / f"{stem}-390x844.png"))
        self.emulate(1280, 800, "light")
        assert problems == [], f"{name}: {problems}"

    def emulate(self, width, height, scheme, mobile=False):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": scheme}]})

    def screenshot_png(self, path):
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture(scope="session")
def page(server):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,800", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-sync", "--force-color-profile=srgb"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(WAIT)
    try:
        yield Page(driver, server)
    finally:
        driver.quit()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps what the browser showed when a test failed, beside the screenshots."""
    report = yield
    if report.when == "call" and report.failed and "page" in item.funcargs:
        page = item.funcargs["page"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        try:
            page.driver.save_screenshot(str(SHOTS / f"failed-{item.name}.png"))
            (SHOTS / f"failed-{item.name}.html").write_text(page.driver.current_url + "\n" + page.driver.page_source)
        except Exception:
            pass
    return report
