"""A browser tab on the console, for the console tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page

SCREENSHOTS = Path(__file__).parents[3] / "test-output" / "console"


@dataclass
class Console:
    """A browser tab on the console, recording JavaScript errors and every URL it requested."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def open(self, route: str = "alerts") -> None:
        self.page.goto(f"{self.base}/console/#/{route}")

    def sign_in(self, token: str) -> None:
        self.open()
        self.page.fill("#token", token)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_selector("#stream-status.live")

    def go(self, route: str) -> None:
        """Show a page and wait until it has loaded its data."""
        self.page.evaluate("route => { location.hash = route; }", f"#/{route}")
        shown = "sensor" if route.startswith("sensors/") else route
        self.page.wait_for_selector(f'main[data-page="{shown}"]', state="attached")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
