"""Fixtures for the browser tests: one JupyterLab per session, one Chromium, a page per test.

Browser tests are skipped when ``/usr/bin/chromium`` (or Playwright) is missing, and
fail instead when ``CI`` is set: CI must run them.
"""

from __future__ import annotations

import os

import pytest

from .harness import CHROMIUM, LabServer, artifacts_dir, launch_chromium

CONSOLE = pytest.StashKey[list]()
BLOCKED = pytest.StashKey[list]()
FAILED = pytest.StashKey[bool]()


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not CHROMIUM.exists():
        _missing(f"browser tests need Chromium at {CHROMIUM}; run `make browser`")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        _missing(f"browser tests need Playwright ({exc}); run `make setup`")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def lab(chromium, tmp_path_factory):
    """A running JupyterLab with its own root, settings and workspaces folders."""
    server = LabServer(tmp_path_factory.mktemp("jupyterlab")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def blocked_requests() -> list[str]:
    """URLs the browser tried to reach outside 127.0.0.1 (they were aborted)."""
    return []


@pytest.fixture(scope="session")
def browser_context(chromium, tmp_path_factory, blocked_requests):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        profile = tmp_path_factory.mktemp("chromium-profile")
        context = launch_chromium(playwright, profile, blocked_requests)
        yield context
        context.close()


@pytest.fixture
def artifacts(tmp_path):
    """Folder for screenshots: ``$GENWIDGETS_ARTIFACTS`` or the test's tmp dir."""
    return artifacts_dir(tmp_path)


@pytest.fixture
def lab_page(lab, browser_context, blocked_requests, artifacts, request):
    """A fresh page; on failure its console goes in the report and a screenshot in
    ``artifacts``. Its kernels are shut down after the test."""
    page = browser_context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    request.node.stash[CONSOLE] = console
    request.node.stash[BLOCKED] = blocked_requests
    yield page
    if request.node.stash.get(FAILED, False):
        page.screenshot(path=artifacts / f"{request.node.name}-failure.png")
    page.close()
    lab.delete_sessions()


@pytest.fixture
def app_page(studio_app, browser_context, artifacts, request):
    """A fresh page for the Studio app that the test module's ``studio_app`` fixture
    serves; its console is kept (``page.console``); on failure a screenshot goes in
    ``artifacts`` and the server's log and the console in the report."""
    page = browser_context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    page.console = console
    yield page
    if request.node.stash.get(FAILED, False):
        page.screenshot(path=artifacts / f"{request.node.name}-failure.png", full_page=True)
        print(studio_app.log_tail(), "\n--- console ---\n", "\n".join(console[-40:]))
    page.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    if report.failed and "lab" in getattr(item, "funcargs", {}):
        report.sections.append(("JupyterLab log", item.funcargs["lab"].log_tail()))
        console = item.stash.get(CONSOLE, [])
        if console:
            report.sections.append(("browser console", "\n".join(console[-60:])))
        blocked = item.stash.get(BLOCKED, [])
        if blocked:
            report.sections.append(("blocked requests", "\n".join(blocked[-30:])))
    return report
