"""A live app on loopback and headless Debian Chromium driven by Playwright."""
import os
import shutil
import threading
from contextlib import contextmanager

from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]


@contextmanager
def live_server(app):
    """Serve the app on 127.0.0.1 in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    # Links in mail and PDFs are built on PUBLIC_URL, as in production: here that is the live server.
    before, app.config["PUBLIC_URL"] = app.config.get("PUBLIC_URL"), base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(5)
        app.config["PUBLIC_URL"] = before


@contextmanager
def chromium(java_script_enabled: bool = True):
    """Yield a fresh browser context in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(java_script_enabled=java_script_enabled, accept_downloads=True)
        try:
            yield context
        finally:
            context.close()
            browser.close()
