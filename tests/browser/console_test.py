#!/usr/bin/python3
"""The web console in a real headless Chromium (Selenium), against real
echo-server processes on loopback started by this test.

  tests/browser/console_test.py BUILD_DIR [SCREENSHOT_DIR]
  tests/browser/console_test.py http://HOST:ADMIN_PORT/ [SCREENSHOT_DIR]   (a running server, e.g. compose's:
      only the session checks: load, connect, echo, markup, live view, exit and FIN)

Checks: the page loads with nothing fetched from outside this server; connect;
`bonjour` comes back as `echo : bonjour`; markup in a message is shown as
text; two tabs show two busy threads in the live view; `exit` shows FIN and
the closed status; a line over the limit gets `ERR line too long`; a foreign
Origin and a session over the limit are refused; French when the browser
asks for it; stopping the server shows the drain's FIN; `--console=off`
answers 404. Saves a screenshot (its path is printed). Exit 0 when all pass.
Run with /usr/bin/python3: Debian's selenium is only importable there."""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

DEADLINE = 10  # seconds any condition may take
build = sys.argv[1] if len(sys.argv) > 1 else "build"
shots = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="echod-console-")
os.makedirs(shots, exist_ok=True)
failures = 0


def check(what, ok, detail=""):
    global failures
    print(("  ok    " if ok else "  FAIL  ") + what + ("" if ok else f": {detail}"), flush=True)
    failures += 0 if ok else 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """echo-server on loopback with its admin (console) port."""

    def __init__(self, *args):
        self.admin = free_port()
        self.proc = subprocess.Popen(
            [os.path.join(build, "service", "echo-server"), "--host=127.0.0.1", "--port=0",
             f"--admin-port={self.admin}", "--log-level=notice", *args],
            stderr=subprocess.PIPE, text=True)
        self.log = []
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            if "admin endpoint" in line:
                return
        raise RuntimeError("echo-server did not start: " + "".join(self.log))

    @property
    def url(self):
        return f"http://127.0.0.1:{self.admin}/"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=DEADLINE + 5)


def browser(language="en"):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--lang={language}", "--window-size=1200,900",
                # Nothing but loopback: a page that fetched from elsewhere would fail, and be caught below.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-proxy-server"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait(driver, condition, what):
    try:
        # The live view redraws its rows every second: an element found just
        # before a redraw is stale by the time it is read, so that poll is
        # simply taken again.
        WebDriverWait(driver, DEADLINE, poll_frequency=0.05,
                      ignored_exceptions=[StaleElementReferenceException]).until(lambda d: condition(d))
        return True
    except Exception:  # a timeout: reported by the check that follows
        return False


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def replies(driver):
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#replies li")]


def rows(driver, selector="#connections tr"):
    """The live view's rows as text, read in one step (a redraw cannot come between)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), r => r.innerText.replace(/\\s+/g, ' ').trim())",
        selector)


def connect(driver):
    driver.find_element(By.ID, "connect").click()
    return wait(driver, lambda d: "connected" in d.find_element(By.ID, "status").get_attribute("class"), "connected")


def send(driver, message):
    box = driver.find_element(By.ID, "message")
    box.send_keys(message)
    box.send_keys(Keys.ENTER)


def websocket_status(port, origin, keep=False):
    """A raw WebSocket handshake: the HTTP status line's code (and the socket, if keep)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    s.sendall((f"GET /console/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
    head = b""
    while b"\r\n" not in head:
        chunk = s.recv(1024)
        if not chunk:
            break
        head += chunk
    code = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    if keep:
        return code, s
    s.close()
    return code


def load_and_echo(url, tab):
    """The page loads from this server alone; a session connects and echoes."""
    tab.get(url)
    check("the page loads", tab.title == "echod console", tab.title)
    resources = tab.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])")
    outside = [r for r in resources if not r.startswith(url.rstrip("/") + "/")]
    check("nothing is fetched from outside this server", not outside, outside)
    check("connect", connect(tab), text(tab, "status"))
    send(tab, "bonjour")
    check("bonjour comes back as 'echo : bonjour'",
          wait(tab, lambda d: "echo : bonjour" in replies(d), "echo"), replies(tab))


def session_checks(url, tab):
    """What any running console must do: its page, a session, the live view."""
    load_and_echo(url, tab)
    send(tab, "<b>bold</b><script>window.injected = 1</script>")
    check("markup comes back as text, never interpreted",
          wait(tab, lambda d: "echo : <b>bold</b><script>window.injected = 1</script>" in replies(d), "markup") and
          tab.execute_script("return document.querySelectorAll('#replies b, #replies script').length === 0"
                             " && window.injected === undefined"), replies(tab))
    check("the live view shows a busy thread",
          wait(tab, lambda d: text(d, "busy") not in ("–", "0"), "busy"), text(tab, "busy"))
    shot = os.path.join(shots, "console-running.png")
    check(f"screenshot saved: {shot}", tab.save_screenshot(shot))
    send(tab, "exit")
    check("exit shows FIN and the closed status",
          wait(tab, lambda d: replies(d)[-1:] == ["FIN"] and text(d, "status") == "closed by the server with FIN",
               "fin"), (replies(tab), text(tab, "status")))


if build.startswith("http"):
    print(f"--- the console at {build}")
    tab = browser()
    try:
        session_checks(build, tab)
    finally:
        tab.quit()
    print(f"console tests: {'all passed' if failures == 0 else f'{failures} failed'} (screenshots in {shots})")
    sys.exit(1 if failures else 0)

print("--- the console against a local echo-server")
server = Server("--console-sessions=3", "--max-line-length=200")
tab = browser()
try:
    load_and_echo(server.url, tab)
    check("in English by default", text(tab, "connect") == "Disconnect", text(tab, "connect"))

    send(tab, "<b>bold</b><script>window.injected = 1</script><img src=x onerror=window.injected=2>")
    check("markup comes back as text",
          wait(tab, lambda d: any(r.startswith("echo : <b>bold</b><script>") for r in replies(d)), "markup"),
          replies(tab))
    check("and is never interpreted",
          tab.execute_script("return document.querySelectorAll('#replies b, #replies img, #replies script').length"
                             " === 0 && window.injected === undefined"))

    second = browser()
    try:
        second.get(server.url)
        check("a second tab connects", connect(second), text(second, "status"))
        check("the live view shows two busy threads",
              wait(tab, lambda d: text(d, "busy") == "2", "busy"), text(tab, "busy"))
        shown = rows(tab)
        check("and two open connections, with peer, listener and state",
              len(shown) == 2 and all("127.0.0.1:" in r and "plain" in r and "open" in r for r in shown), shown)
        shot = os.path.join(shots, "console.png")
        check(f"screenshot saved: {shot}", tab.save_screenshot(shot) and os.path.getsize(shot) > 10000)

        send(tab, "x" * 300)
        check("a line over the limit gets ERR line too long",
              wait(tab, lambda d: "ERR line too long" in replies(d), "err"), replies(tab))
        check("and the status says so",
              wait(tab, lambda d: "line too long" in text(d, "status"), "status"), text(tab, "status"))

        check("connect again", connect(tab), text(tab, "status"))
        send(tab, "exit")
        check("exit shows FIN", wait(tab, lambda d: replies(d)[-1:] == ["FIN"], "fin"), replies(tab))
        check("and the closed status",
              wait(tab, lambda d: text(d, "status") == "closed by the server with FIN", "closed"), text(tab, "status"))
        check("the live view shows the close event",
              wait(tab, lambda d: "closed: sent FIN" in text(d, "events"), "events"), text(tab, "events"))

        check("a WebSocket from another origin is refused (403)",
              websocket_status(server.admin, "http://evil.example") == 403)
        # The second tab holds one session; two more fill --console-sessions=3.
        origin = f"http://127.0.0.1:{server.admin}"
        held = [websocket_status(server.admin, origin, keep=True) for _ in range(2)]
        check("sessions up to --console-sessions=3 are accepted (101)", [c for c, _ in held] == [101, 101],
              [c for c, _ in held])
        over = websocket_status(server.admin, origin)
        check("one more is refused (503)", over == 503, over)
        for _, s in held:
            s.close()

        # The drain: the second tab, still connected, gets the server's FIN.
        status = server.stop()
        check("the server exits 0 at SIGTERM", status == 0, status)
        check("the open tab shows the drain's FIN",
              wait(second, lambda d: replies(d)[-1:] == ["FIN"] and
                   text(d, "status") == "closed by the server with FIN", "drain"),
              (replies(second), text(second, "status")))
    finally:
        second.quit()
finally:
    tab.quit()
    server.stop()

print("--- French when the browser asks for it")
server = Server()
french = browser("fr")
try:
    french.get(server.url)
    check("the page speaks French", text(french, "connect") == "Connexion", text(french, "connect"))
    check("connexion", connect(french), text(french, "status"))
    send(french, "bonjour")
    check("bonjour → echo : bonjour", wait(french, lambda d: "echo : bonjour" in replies(d), "echo"))
    french.set_window_size(390, 844)  # a phone
    check("on a phone's width nothing scrolls sideways",
          wait(french, lambda d: d.execute_script(
              "return document.documentElement.scrollWidth <= window.innerWidth"), "width"),
          french.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]"))
    french.save_screenshot(os.path.join(shots, "console-phone-fr.png"))
finally:
    french.quit()
    server.stop()

print("--- a reply delay: one slow client holds one thread, and the console shows it")
# --reply-delay=4000 on every connection: the tab's line is held 4 s on its
# thread. The live view (refreshed every second) must show that connection
# marked for faults and "delaying", its thread busy, while a second
# connection, also drawn, is served by a thread of its own.
server = Server("--reply-delay=4000")
slow = browser()
try:
    slow.get(server.url)
    check("connect with a delay on", connect(slow), text(slow, "status"))
    send(slow, "slow one")
    check("the live view marks the connection and shows its thread waiting on the delay",
          wait(slow, lambda d: any("delaying, thread busy (faults)" in r for r in rows(d, "#connections tr.fault.delaying")),
               "delaying"),
          rows(slow))
    check("one busy thread for it", wait(slow, lambda d: text(d, "busy") == "1", "busy"), text(slow, "busy"))
    slow.save_screenshot(os.path.join(shots, "console-delay.png"))
    check("the held reply arrives", wait(slow, lambda d: "echo : slow one" in replies(d), "echo"), replies(slow))
    check("and the row goes back to open",
          wait(slow, lambda d: any(" open (faults)" in r for r in rows(d, "#connections tr.fault")), "open"),
          rows(slow))
finally:
    slow.quit()
    server.stop()

print("--- --console=off")
server = Server("--console=off")
try:
    try:
        urllib.request.urlopen(server.url, timeout=DEADLINE)
        code = 200
    except urllib.error.HTTPError as e:
        code = e.code
    check("GET / answers 404", code == 404, code)
    check("/metrics still answers",
          urllib.request.urlopen(server.url + "metrics", timeout=DEADLINE).status == 200)
finally:
    server.stop()

print(f"console tests: {'all passed' if failures == 0 else f'{failures} failed'} (screenshots in {shots})")
sys.exit(1 if failures else 0)
