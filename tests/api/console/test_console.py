"""The on-call console in headless Chromium against the real API: signing in
with a token, alerts arriving live from the store (as the alerts service
writes them), acknowledging with a note, resolving, role-dependent buttons,
the language switch, and every page rendering without a JavaScript error.
A screenshot of each page is kept under test-output/console/."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from alerts.model import ExcursionEvent
from alerts.store import AlertStore
from api.roles import Role
from tests.api.apikit import firing, write_readings
from tests.api.console.browser import Console
from vigil.infra.local import LocalServices
from vigil.registry import Registry

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SENSOR = "vac-fridge-1-temp"


def test_an_oncall_engineer_sees_an_alert_arrive_live_acknowledges_it_with_a_note_and_resolves_it(
        console: Console, console_store: AlertStore, console_tokens: dict[Role, str]) -> None:
    console.sign_in(console_tokens[Role.ONCALL])
    # Raised through the store while the page is open, as the alerts service would from its process.
    console_store.apply(firing(rule="console-live"))
    alert = next(a for a in console_store.list_alerts(limit=20) if a.rule_id.endswith("console-live"))
    card = console.page.locator(f'article[data-alert-id="{alert.id}"]')
    expect(card).to_be_visible(timeout=10_000)
    expect(card.locator(".badge.state-firing")).to_be_visible()
    console.screenshot("alerts")

    card.locator("button.ack").click()
    card.locator("input[name=note]").fill("door closed, probe reading 5.1 °C")
    card.locator("form.note-form button[type=submit]").click()
    expect(card.locator(".badge.state-acknowledged")).to_be_visible()
    expect(card.locator(".acked-by")).to_contain_text("test-oncall")
    acked = [e for e in console_store.alert_events(alert.id) if e.action == "acknowledged"]
    assert [(e.actor, e.note) for e in acked] == [("test-oncall", "door closed, probe reading 5.1 °C")]

    card.locator("button.resolve").click()
    card.locator("input[name=note]").fill("compressor restarted")
    card.locator("form.note-form button[type=submit]").click()
    expect(card).to_have_count(0)  # the inbox shows open alerts: a resolved one leaves it
    assert console_store.get_alert(alert.id).state == "resolved"
    assert console_store.get_alert(alert.id).resolved_by == "test-oncall"
    assert console.errors == []


def test_a_state_change_made_elsewhere_updates_the_open_inbox(console: Console, console_store: AlertStore,
                                                              console_tokens: dict[Role, str]) -> None:
    console_store.apply(firing(rule="console-elsewhere"))
    alert = next(a for a in console_store.list_alerts(limit=20) if a.rule_id.endswith("console-elsewhere"))
    console.sign_in(console_tokens[Role.VIEWER])
    card = console.page.locator(f'article[data-alert-id="{alert.id}"]')
    expect(card.locator(".badge.state-firing")).to_be_visible()
    console_store.acknowledge(alert.id, by="Wang Li", note="on my way")
    expect(card.locator(".badge.state-acknowledged")).to_be_visible(timeout=10_000)
    expect(card.locator(".acked-by")).to_contain_text("Wang Li")
    assert console.errors == []


def test_the_status_board_colours_an_asset_by_its_worst_open_alert_as_it_changes(
        console: Console, console_store: AlertStore, console_tokens: dict[Role, str]) -> None:
    for alert in console_store.list_alerts(state=["pending", "firing", "acknowledged"], limit=1000):
        if alert.asset == "bb-fridge-1":
            console_store.resolve(alert.id, by="test setup")
    console.sign_in(console_tokens[Role.VIEWER])
    console.go("status")
    tile = console.page.locator('li.asset[data-asset="bb-fridge-1"]')
    expect(tile).to_have_class("asset level-ok")
    console_store.apply(firing(sensor="bb-fridge-1-temp", asset="bb-fridge-1", rule="console-board"))
    expect(tile).to_have_class("asset level-critical", timeout=10_000)
    expect(console.page.locator('div.room[data-room="blood-bank"]')).to_have_class("room level-critical")
    assert console.errors == []


def test_a_viewer_sees_alerts_but_no_acknowledge_or_resolve_button(console: Console, console_store: AlertStore,
                                                                   console_tokens: dict[Role, str]) -> None:
    console_store.apply(firing(rule="console-viewer"))
    alert = next(a for a in console_store.list_alerts(limit=20) if a.rule_id.endswith("console-viewer"))
    console.sign_in(console_tokens[Role.VIEWER])
    card = console.page.locator(f'article[data-alert-id="{alert.id}"]')
    expect(card).to_be_visible()
    expect(card.locator("button.ack")).to_have_count(0)
    expect(card.locator("button.resolve")).to_have_count(0)
    console.go("work-orders")
    expect(console.page.locator("button.wo-respond")).to_have_count(0)


def test_a_technician_moves_a_work_order_along_the_board(console: Console, console_store: AlertStore,
                                                         console_tokens: dict[Role, str]) -> None:
    order = console_store.open_work_order("console-test: check door gasket", asset="vac-fridge-1", source="api", by="Zhang Wei")
    console.sign_in(console_tokens[Role.TECHNICIAN])
    console.go("work-orders")
    card = console.page.locator(f'article[data-work-order-id="{order.id}"]')
    expect(console.page.locator('section[data-state="open"]').locator(card)).to_be_visible()
    card.locator("button.wo-respond").click()
    card.locator("input[name=note]").fill("on site")
    card.locator("form.note-form button[type=submit]").click()
    expect(console.page.locator(f'section[data-state="responded"] article[data-work-order-id="{order.id}"]')).to_be_visible()
    assert console_store.get_work_order(order.id).responded_by == "test-technician"
    assert console.errors == []


def test_the_language_switch_turns_the_labels_into_chinese_and_back(console: Console, console_tokens: dict[Role, str]) -> None:
    console.sign_in(console_tokens[Role.ONCALL])
    nav = console.page.locator("#nav")
    expect(nav).to_contain_text("Alerts")
    console.page.click("#language")
    expect(nav).to_contain_text("告警")
    expect(nav).to_contain_text("工单")
    expect(console.page.locator("main h1")).to_have_text("告警")
    console.screenshot("alerts-zh")
    console.page.click("#language")
    expect(nav).to_contain_text("Work orders")
    assert console.errors == []


def test_a_refused_token_is_not_kept(console: Console) -> None:
    console.open()
    console.page.fill("#token", "vgl_000000000000_not-a-token")
    console.page.click("form.login button[type=submit]")
    expect(console.page.locator("form.login .error")).to_have_text("The token was refused.")
    assert console.page.evaluate("() => sessionStorage.getItem('vigil.token')") is None


@pytest.fixture
def plant_data(services: LocalServices, small_registry: Registry, console_store: AlertStore) -> None:
    """Something on every page: readings for the chart, an excursion, a work order, an alert."""
    now = datetime.now(UTC)
    write_readings(services, small_registry, [(SENSOR, "temperature", 4.0 + (i % 7) * 0.3, now - timedelta(minutes=10 * i))
                                              for i in range(60)])
    started = now - timedelta(hours=3)
    console_store.record_excursion(ExcursionEvent(sensor=SENSOR, asset="vac-fridge-1", product="vaccine",
                                              started_ns=int(started.timestamp() * 1e9),
                                              ended_ns=int((started + timedelta(minutes=40)).timestamp() * 1e9),
                                              peak=9.4, minutes_out_of_range=40, mean_kinetic_temperature=8.7,
                                              low=2.0, high=8.0))
    console_store.open_work_order("console-test: recalibrate probe", asset="vac-fridge-1", source="api", by="Zhang Wei")
    console_store.apply(firing(rule="console-pages"))


@pytest.mark.usefixtures("plant_data")
@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_every_page_renders_without_a_javascript_error(console: Console, console_tokens: dict[Role, str], width: int) -> None:
    console.page.set_viewport_size({"width": width, "height": 900})
    console.sign_in(console_tokens[Role.ADMIN])
    suffix = "" if width == 1280 else "-phone"
    for route, shows in [("alerts", "article.alert"), ("status", 'li.asset[data-asset="vac-fridge-1"].level-critical'),
                         ("work-orders", "article.work-order"), ("sensors", f'a[href="#/sensors/{SENSOR}"]'),
                         (f"sensors/{SENSOR}", "svg.chart polyline.series"), ("excursions", "table.table tbody tr")]:
        console.go(route)
        expect(console.page.locator(shows).first).to_be_visible()
        expect(console.page.locator("main .error")).to_have_count(0)
        console.screenshot(route.replace("/", "-") + suffix)
    # The sensor page draws the vaccine fridge's 2-8 °C limits and lists them.
    console.go(f"sensors/{SENSOR}")
    expect(console.page.locator("svg.chart line.limit")).to_have_count(2)
    expect(console.page.locator("main table")).to_contain_text("temperature")
    assert console.errors == []


def test_the_token_never_appears_in_a_url(console: Console, console_tokens: dict[Role, str]) -> None:
    console.sign_in(console_tokens[Role.ONCALL])
    for route in ("alerts", "status", "work-orders", "sensors", "excursions"):
        console.go(route)
    time.sleep(0.5)
    secret = console_tokens[Role.ONCALL]
    assert console.urls and not [url for url in console.urls if secret in url or secret.split("_")[-1] in url]
    assert secret not in console.page.url


def test_an_oncall_engineer_comments_on_an_alert_and_reads_its_history(
        console: Console, console_store: AlertStore, console_tokens: dict[Role, str]) -> None:
    console_store.apply(firing(rule="console-history"))
    alert = next(a for a in console_store.list_alerts(limit=50) if a.rule_id.endswith("console-history"))
    console_store.acknowledge(alert.id, by="Wang Li", note="on my way")
    console.sign_in(console_tokens[Role.ONCALL])
    card = console.page.locator(f'article[data-alert-id="{alert.id}"]')
    card.locator("button.history-toggle").click()
    expect(card.locator("ol.history")).to_contain_text("Wang Li")
    expect(card.locator("ol.history")).to_contain_text("on my way")
    card.locator("button.comment").click()
    card.locator("input[name=note]").fill("engineer from Siemens booked for 14:00")
    card.locator("form.note-form button[type=submit]").click()
    expect(card.locator("ol.history")).to_contain_text("engineer from Siemens booked for 14:00")
    comments = [e for e in console_store.alert_events(alert.id) if e.note == "engineer from Siemens booked for 14:00"]
    assert [e.actor for e in comments] == ["test-oncall"]
    console.screenshot("alert-history")
    assert console.errors == []


def test_an_oncall_pharmacist_signs_off_an_ended_excursion(console: Console, console_store: AlertStore,
                                                           console_tokens: dict[Role, str]) -> None:
    ended = console_store.record_excursion(ExcursionEvent(
        sensor="bb-fridge-1-temp", asset="bb-fridge-1", product="red cells", started_ns=1_795_500_000_000_000_000,
        ended_ns=1_795_501_200_000_000_000, peak=7.9, minutes_out_of_range=20.0, mean_kinetic_temperature=6.5, low=2.0, high=6.0))
    console.sign_in(console_tokens[Role.VIEWER])
    console.go("excursions")
    expect(console.page.locator("table.table")).to_be_visible()
    assert console.page.locator("button.sign-off").count() == 0  # a viewer reads, does not sign
    console.page.click("#sign-out")
    console.sign_in(console_tokens[Role.ONCALL])
    console.go("excursions")
    row = console.page.locator("tbody tr", has_text="red cells")
    expect(row.locator("form.note-form")).to_be_hidden()  # until Sign off is pressed
    row.locator("button.sign-off").click()
    row.locator("select[name=disposition]").select_option("quarantine")
    row.locator("input[name=note]").fill("held for the transfusion lab's review")
    row.locator("button[type=submit]").click()
    expect(console.page.locator("tbody tr", has_text="red cells").locator("td.disposition")).to_contain_text("test-oncall")
    signed = next(x for x in console_store.list_excursions(sensor="bb-fridge-1-temp") if x.id == ended.id)
    assert (signed.disposition, signed.disposition_by) == ("quarantine", "test-oncall")
    assert signed.disposition_note == "held for the transfusion lab's review"
    console.screenshot("excursion-signed")
    assert console.errors == []
