"""The reference web client at /app in real Chromium, against the real stack: sign up, habits
and check-in, the floating button (tap, keyboard, long press, drag, red dot), the assistant's
modal (streamed plan, Start, Escape, focus, counter, safe Markdown, retry), a chart card, axe."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright

from tests.e2e.browser import (
    PASSWORD,
    SCREENSHOTS,
    VIEWPORT,
    chromium_path,
    push_nudge,
    settled,
    sign_up_by_api,
    sse_body,
    until,
)

pytestmark = pytest.mark.e2e
CHECK_IN = re.compile("^Check in")
TOAST_SHOWN = re.compile("shown")
FAB = "habyss-fab .fab"
SHEET = "dialog.sheet"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make install` installs it with apt-get")
        pytest.skip("no chromium: `apt-get install chromium` (make install does it as root)")
    browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, stack: str) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, base_url=stack)
    page = context.new_page()
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    context.close()
    assert not problems, problems


def signed_in(page: Page, stack: str) -> dict[str, str]:
    """A fresh account, signed in on the home screen."""
    account = sign_up_by_api(stack)
    page.goto("/app/")
    page.evaluate("token => localStorage.setItem('habyss.token', token)", account["token"])
    page.reload()
    expect(page.get_by_role("heading", name="Your habits")).to_be_visible()
    return account


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def serious(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is."""
    results: dict[str, Any] = Axe().run(page).response
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def create_habit(page: Page, title: str) -> None:
    page.get_by_role("button", name="+ New habit").click()
    page.get_by_label("Name").fill(title)
    page.get_by_role("button", name="Add habit").click()
    expect(page.locator(".habit h3", has_text=title)).to_be_visible()


def test_sign_up_create_a_habit_check_in_and_see_the_streak(page: Page, stack: str) -> None:
    # A token the gateway refuses (401) leads to sign-in.
    page.goto("/app/")
    page.evaluate("localStorage.setItem('habyss.token', 'not-a-token')")
    page.reload()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    expect(page.locator(FAB)).to_be_hidden()
    assert serious(page) == []
    page.get_by_role("button", name="New here? Create an account").click()
    page.get_by_label("Name").fill("Ada")
    page.get_by_label("Email").fill(f"ada-{os.getpid()}-{id(page)}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Your habits")).to_be_visible()
    expect(page.locator(FAB)).to_be_visible()

    create_habit(page, "Drink a glass of water")
    row = page.locator(".habit", has_text="Drink a glass of water")
    expect(row.locator(".streak")).to_have_text("🔥 0 days streak")
    row.get_by_role("button", name="Check in: Drink a glass of water").click()
    expect(row.locator(".streak")).to_have_text("🔥 1 day streak")
    expect(row.get_by_role("button", name="Check in: Drink a glass of water")).to_have_text(
        "Done ✓"
    )
    expect(row).to_have_class("habit done")

    # Edit: the title changes in place.
    row.get_by_role("button", name="Edit Drink a glass of water").click()
    page.get_by_label("Name").fill("Drink two glasses of water")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".habit h3", has_text="Drink two glasses of water")).to_be_visible()
    assert serious(page) == []


def test_plan_streamed_started_and_active_on_home(page: Page, stack: str) -> None:
    signed_in(page, stack)
    page.locator(FAB).click()
    sheet = page.locator(SHEET)
    expect(sheet).to_be_visible()
    expect(sheet.get_by_role("heading", name="Habyss AI Assistant")).to_be_visible()
    expect(page.get_by_placeholder("Ask me anything about your habits...")).to_be_focused()
    expect(sheet.locator(".chip").first).to_be_visible()
    assert serious(page) == []
    shot(page, "modal")

    # Watch the conversation: the dots must show, and text must be painted before the turn ends.
    page.evaluate(
        """() => {
        window.__seen = {dots: false, textBeforeEnd: false, ring: false};
        const log = document.querySelector('.log');
        const fab = document.querySelector('habyss-fab');
        new MutationObserver(() => {
          if (fab.classList.contains('busy')) window.__seen.ring = true;
        }).observe(fab, {attributes: true});
        new MutationObserver(() => {
          if (log.querySelector('.typing')) window.__seen.dots = true;
          const last = [...log.querySelectorAll('.msg.assistant .text')].pop();
          if (last && last.textContent && document.querySelector('habyss-fab.thinking'))
            window.__seen.textBeforeEnd = true;
        }).observe(log, {childList: true, subtree: true, characterData: true});
      }"""
    )
    box = page.get_by_placeholder("Ask me anything about your habits...")
    box.fill("I want to run a 5k in 3 months")
    box.press("Enter")
    expect(sheet.locator(".msg.user", has_text="I want to run a 5k in 3 months")).to_be_visible()
    card = sheet.locator("[data-card=habit_sequence]")
    expect(card).to_be_visible(timeout=30_000)
    expect(page.locator("habyss-fab.thinking")).to_have_count(0)
    seen = page.evaluate("window.__seen")
    assert seen == {"dots": True, "textBeforeEnd": True, "ring": True}, seen
    assert sheet.locator(".msg.assistant time").count() >= 1
    sheet.get_by_role("button", name="Full screen").click()
    card.evaluate("card => card.closest('.msg').scrollIntoView({block: 'start'})")
    shot(page, "plan")
    sheet.get_by_role("button", name="Half screen").click()

    card.get_by_role("button", name="Start this plan").click()
    expect(card.get_by_role("button", name="Started ✓")).to_be_visible()
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(page.locator(FAB)).to_be_focused()
    plan = page.locator("#active-plan")
    expect(plan).to_be_visible()
    expect(plan).to_contain_text("Phase 1 of")
    assert page.locator(".habit").count() >= 1
    first = page.locator(".habit").first
    first.get_by_role("button", name=CHECK_IN).click()
    expect(first.locator(".streak")).to_have_text("🔥 1 day streak")
    expect(page.locator(".habit .streak", has_text="…")).to_have_count(0)
    expect(page.locator("#toast")).not_to_have_class(TOAST_SHOWN, timeout=8_000)
    page.wait_for_timeout(400)  # its fade
    shot(page, "home")

    # The history comes back after a reload.
    page.reload()
    page.locator(FAB).click()
    expect(sheet.locator("[data-card=habit_sequence]")).to_be_visible()


def test_keyboard_open_counter_and_focus_trap(page: Page, stack: str) -> None:
    signed_in(page, stack)
    page.locator(FAB).focus()
    page.keyboard.press("Enter")
    sheet = page.locator(SHEET)
    expect(sheet).to_be_visible()
    box = page.get_by_placeholder("Ask me anything about your habits...")
    expect(box).to_be_focused()

    counter = sheet.locator(".counter")
    box.fill("x" * 200)
    expect(counter).to_be_hidden()
    box.press_sequentially("y")
    expect(counter).to_be_visible()
    expect(counter).to_have_text("201 / 4000")

    inside = "document.querySelector('dialog.sheet').contains(document.activeElement)"
    for _ in range(15):
        page.keyboard.press("Tab")
        assert page.evaluate(inside)
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(inside)


def test_backdrop_and_swipe_close_the_sheet(page: Page, stack: str) -> None:
    signed_in(page, stack)
    sheet = page.locator(SHEET)
    page.locator(FAB).click()
    expect(sheet).to_be_visible()
    page.mouse.click(VIEWPORT["width"] // 2, 20)
    expect(sheet).to_be_hidden()
    page.locator(FAB).click()
    settled(page, SHEET)
    title = sheet.get_by_role("heading", name="Habyss AI Assistant").bounding_box()
    assert title is not None
    page.mouse.move(title["x"] + 10, title["y"] + 5)
    page.mouse.down()
    page.mouse.move(title["x"] + 10, title["y"] + 250, steps=8)
    page.mouse.up()
    expect(sheet).to_be_hidden()


def test_escape_closes_and_focus_returns(page: Page, stack: str) -> None:
    signed_in(page, stack)
    page.locator(FAB).focus()
    page.keyboard.press("Enter")
    sheet = page.locator(SHEET)
    expect(sheet).to_be_visible()
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden(timeout=5000)
    expect(page.locator(FAB)).to_be_focused()


def test_long_press_menu_and_drag_to_snap(page: Page, stack: str) -> None:
    signed_in(page, stack)
    fab = page.locator(FAB)
    box = fab.bounding_box()
    assert box is not None and box["width"] == 56 and box["height"] == 56
    face = page.locator("habyss-fab .face")
    assert face.evaluate("f => getComputedStyle(f).animationName") == "breathe"
    assert face.evaluate("f => getComputedStyle(f).animationDuration") == "2s"
    page.emulate_media(reduced_motion="reduce")
    assert face.evaluate("f => getComputedStyle(f).animationName") == "none"
    page.emulate_media(reduced_motion="no-preference")
    x, y = box["x"] + 28, box["y"] + 28

    page.mouse.move(x, y)
    page.mouse.down()
    page.wait_for_timeout(700)
    page.mouse.up()
    menu = page.get_by_role("menu", name="Quick actions")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem")).to_have_text(
        ["Analyse my progress", "Suggest habits", "View insights"]
    )
    expect(page.locator(SHEET)).to_be_hidden()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    fab.focus()
    page.keyboard.press("Shift+F10")
    expect(menu).to_be_visible()
    menu.get_by_role("menuitem", name="View insights").click()
    expect(page.locator(SHEET).locator("[data-card=insights]")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(SHEET)).to_be_hidden()

    # Drag to the left, a little above the middle: it snaps to the left edge and stays there.
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 120, y - 200, steps=5)
    page.mouse.move(90, 400, steps=5)
    page.mouse.up()
    expect(page.locator(SHEET)).to_be_hidden()
    snapped = fab.bounding_box()
    assert snapped is not None and snapped["x"] == 16, snapped
    page.reload()
    restored = page.locator(FAB).bounding_box()
    assert restored is not None and restored["x"] == 16, restored


def test_red_dot_after_a_nudge(page: Page, stack: str, stack_bus: str) -> None:
    account = signed_in(page, stack)
    habit = httpx.post(
        f"{stack}/v1/habits",
        json={"title": "Stretch 15 min"},
        headers={"Authorization": f"Bearer {account['token']}"},
    ).json()
    expect(page.locator("habyss-fab.unread")).to_have_count(0)
    # The stream is open once its first event (the suggestion flag) has been read.
    until(page, "performance.getEntriesByName('habyss:notifications').length > 0")
    push_nudge(stack_bus, account["user_id"], habit["id"])
    expect(page.locator("habyss-fab.unread .dot")).to_be_visible()
    expect(page.locator(FAB)).to_have_attribute("aria-label", "Habyss AI Assistant, new suggestion")
    page.locator(FAB).click()
    expect(page.locator("habyss-fab.unread")).to_have_count(0)
    page.keyboard.press("Escape")
    page.reload()
    until(page, "performance.getEntriesByName('habyss:notifications').length > 0")
    expect(page.locator("habyss-fab.unread")).to_have_count(0)


def test_model_html_is_text_and_a_lost_stream_retries_once(page: Page, stack: str) -> None:
    signed_in(page, stack)
    evil = '<img src=x onerror="window.__pwned=1"> **bold** and <script>window.__pwned=2</script>'
    calls: list[str] = []

    def chat(route: Route) -> None:
        calls.append(route.request.post_data or "")
        if len(calls) == 1:
            route.abort("connectionreset")
            return
        events = [
            ("run.started", {"type": "run.started", "conversation_id": None, "turn_id": None}),
            ("text.delta", {"type": "text.delta", "text": evil}),
            ("run.completed", {"type": "run.completed", "text": evil, "stop_reason": "end"}),
        ]
        route.fulfill(status=200, content_type="text/event-stream", body=sse_body(events))

    page.route("**/v1/chat", chat)
    page.locator(FAB).click()
    box = page.get_by_placeholder("Ask me anything about your habits...")
    box.fill("hello there")
    box.press("Enter")
    retry = page.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    retry.click()
    reply = page.locator(".msg.assistant .text").last
    expect(reply).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(reply.locator("strong")).to_have_text("bold")
    assert page.locator(".log img, .log script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".msg.user", has_text="hello there").count() == 1
    assert len(calls) == 2

    # run.failed: the error, kindly, with a retry.
    page.unroute("**/v1/chat")
    failed = [
        ("run.started", {"type": "run.started", "conversation_id": None, "turn_id": None}),
        ("run.failed", {"type": "run.failed", "code": "timeout", "message": "I ran out of time."}),
    ]
    page.route(
        "**/v1/chat",
        lambda route: route.fulfill(
            status=200, content_type="text/event-stream", body=sse_body(failed)
        ),
    )
    box.fill("and again")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Sorry — I ran out of time.")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()


def test_a_chart_card_renders_under_the_strict_csp(page: Page, stack: str) -> None:
    account = signed_in(page, stack)
    headers = {"Authorization": f"Bearer {account['token']}"}
    habit = httpx.post(f"{stack}/v1/habits", json={"title": "Evening walk"}, headers=headers)
    log = httpx.post(f"{stack}/v1/habits/{habit.json()['id']}/logs", json={}, headers=headers)
    assert log.status_code == 201
    page.locator(FAB).click()
    page.locator(SHEET).get_by_role("button", name="Full screen").click()
    box = page.get_by_placeholder("Ask me anything about your habits...")
    box.fill("show me a chart of my walk this month")
    box.press("Enter")
    chart = page.locator("[data-card=visualization] .chart[data-rendered=true] canvas")
    expect(chart).to_be_visible(timeout=30_000)
    chart.scroll_into_view_if_needed()
    shot(page, "chart")


def test_progress_prediction_citation_and_reminder_cards(page: Page, stack: str) -> None:
    account = signed_in(page, stack)
    headers = {"Authorization": f"Bearer {account['token']}"}
    habit = httpx.post(f"{stack}/v1/habits", json={"title": "Morning pages"}, headers=headers)
    log = httpx.post(f"{stack}/v1/habits/{habit.json()['id']}/logs", json={}, headers=headers)
    assert log.status_code == 201
    page.locator(FAB).click()
    sheet = page.locator(SHEET)
    box = page.get_by_placeholder("Ask me anything about your habits...")
    # The real planner: progress is a card with a row per habit.
    box.fill("How is my progress this week?")
    box.press("Enter")
    progress = sheet.locator("[data-card=progress]")
    expect(progress).to_contain_text("Morning pages")
    expect(progress.locator("meter")).to_have_count(1)

    # The other types from a recorded stream, with a hostile link that must stay text.
    cards = [
        {
            "type": "prediction",
            "habit": "Walk",
            "probability": 0.72,
            "factors": ["3 sessions a week"],
            "recommendation": "Keep it at 10 minutes for two weeks.",
        },
        {
            "type": "citations",
            "sources": [
                {
                    "title": "Habit formation",
                    "citation": "Lally (2010)",
                    "url": "https://doi.org/x",
                },
                {"title": "Trap", "citation": "click me", "url": "javascript:window.__pwned=3"},
            ],
        },
        {
            "type": "reminder",
            "action": "created",
            "habit": "Walk",
            "reminder": {"time": "07:30", "weekdays": [], "message": "Shoes on"},
        },
        {"type": "reminder", "action": "deleted", "habit": "Walk", "deleted": 1},
    ]
    events = [("run.started", {"type": "run.started", "conversation_id": None, "turn_id": None})]
    events += [("card", {"type": "card", "card": c}) for c in cards]
    events.append(("run.completed", {"type": "run.completed", "text": "", "stop_reason": "end"}))
    page.route(
        "**/v1/chat",
        lambda route: route.fulfill(
            status=200, content_type="text/event-stream", body=sse_body(events)
        ),
    )
    box.fill("cards please")
    box.press("Enter")
    expect(sheet.locator("[data-card=prediction] .big")).to_have_text("72%")
    expect(sheet.locator("[data-card=prediction]")).to_contain_text("3 sessions a week")
    sources = sheet.locator("[data-card=citations] li")
    expect(sources).to_have_count(2)
    expect(sources.first.locator("a")).to_have_attribute("href", "https://doi.org/x")
    expect(sources.last.locator("a")).to_have_count(0)
    expect(sources.last).to_contain_text("click me")
    reminders = sheet.locator("[data-card=reminder]")
    expect(reminders.first).to_contain_text("⏰ 07:30")
    expect(reminders.first).to_contain_text("Shoes on")
    expect(reminders.last).to_contain_text("No more reminders for Walk.")


def test_archiving_waits_for_accept_on_the_confirmation_card(page: Page, stack: str) -> None:
    signed_in(page, stack)
    create_habit(page, "Reading")
    create_habit(page, "Meditation")
    page.locator(FAB).click()
    sheet = page.locator(SHEET)
    box = page.get_by_placeholder("Ask me anything about your habits...")
    box.fill("delete my reading habit")
    box.press("Enter")
    card = sheet.locator("[data-card=confirmation]")
    expect(card).to_be_visible(timeout=30_000)
    expect(card).to_contain_text('Archive the habit "Reading"')
    expect(card.get_by_role("status")).to_have_text("Waiting for your answer.")
    assert serious(page) == []
    shot(page, "confirmation")
    page.keyboard.press("Escape")
    expect(page.locator(".habit h3", has_text="Reading")).to_be_visible()  # nothing happened yet

    page.locator(FAB).click()
    card.get_by_role("button", name="Accept").click()
    expect(card.get_by_role("status")).to_have_text("Done ✓")
    expect(card.get_by_role("button", name="Accept")).to_be_disabled()
    page.keyboard.press("Escape")
    expect(page.locator(".habit h3", has_text="Reading")).to_have_count(0)
    expect(page.locator(".habit h3", has_text="Meditation")).to_be_visible()

    # From the history, an answered card shows its answer and cannot be accepted again.
    page.reload()
    page.locator(FAB).click()
    old = page.locator(f"{SHEET} [data-card=confirmation]")
    expect(old.get_by_role("status")).to_have_text("Done ✓")
    expect(old.get_by_role("button", name="Cancel")).to_be_disabled()
