"""The web client's speed in real Chromium, against a stack of its own (bench/chat_stack.py).

Prints (never asserts), each as median and worst of several tries:

- tap on the floating button → the modal painted (goal < 100 ms);
- Enter in the input → the typing dots painted (goal < 50 ms);
- the first ``text.delta`` read off the stream → its text painted (goal < 30 ms), and from
  ``run.started`` → the first text painted (that includes the assistant's own thinking);
- the gzip weight of what ``/app`` loads at start, without the chart libraries (goal < 500 KB),
  and the chart libraries' weight, loaded on the first chart card only.

The client sets ``performance.mark("habyss:…")`` at each step (js/dom.js ``mark``); "painted"
is the mark after the next animation frame. Beside each timing it prints the floor measured in
the same page and run: one empty element painted after a key press (or a task), so that on a
loaded machine the client's own cost (timing minus floor) can be told from the wait for a frame
and a CPU. Run: ``make bench-client`` or
``.venv/bin/python bench/client.py [--tries 10] [--url http://127.0.0.1:8000]``.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from bench.chat_stack import BenchStack  # noqa: E402
from tests.e2e.browser import VIEWPORT, chromium_path, sign_up_by_api, until  # noqa: E402

CHART_LIBRARIES = ("/vendor/vega/", "/vendor/vega-lite/", "/vendor/vega-embed/")
# Records the moment of a tap or a key press, in the page's own clock.
LISTEN = """() => {
  window.__at = {};
  document.addEventListener('pointerdown', () => { window.__at.tap = performance.now(); }, true);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') window.__at.enter = performance.now();
  }, true);
}"""
MARKS = """names => Object.fromEntries(names.map(n => {
  const all = performance.getEntriesByName('habyss:' + n);
  return [n, all.length ? all[all.length - 1].startTime : null];
}))"""
# The floor under the same load: a key press (or a task) that puts one empty element on screen,
# timed the same way ("painted" = after the next animation frame). What a step costs beyond it
# is the client's own work; the rest is the machine's frame and CPU wait.
FLOOR_KEY = """() => {
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'F9') return;
    const at = performance.now();
    const d = document.createElement('div');
    document.body.append(d);
    requestAnimationFrame(() => setTimeout(() => {
      d.remove();
      window.__floorKey.push(performance.now() - at);
    }, 0));
  }, true);
  window.__floorKey = [];
}"""
FLOOR_TASK = """() => new Promise((resolve) => setTimeout(() => {
  const at = performance.now();
  const d = document.createElement('div');
  document.body.append(d);
  requestAnimationFrame(() => setTimeout(() => {
    d.remove();
    resolve(performance.now() - at);
  }, 0));
}, 0))"""
QUESTIONS = ("How am I doing?", "What should I focus on today?", "Give me a tip for mornings")


def line(label: str, values: list[float], goal: float, floor: list[float] | None = None) -> str:
    if not values:
        return f"{label:<38} no samples"
    median, worst = statistics.median(values), max(values)
    verdict = "within goal" if median < goal else "OVER goal"
    beyond = ""
    if floor:
        least = statistics.median(floor)
        beyond = f"; floor {least:.1f} ms, client's own {max(0.0, median - least):.1f} ms"
    return (
        f"{label:<38} median {median:6.1f} ms  worst {worst:6.1f} ms  "
        f"(goal < {goal:.0f} ms: {verdict}, n={len(values)}{beyond})"
    )


def page_weight(urls: list[str]) -> tuple[int, int, int]:
    """(gzip bytes at start without the chart libraries, raw bytes of the same, chart gzip).

    The browser's own response bodies vanish when the page navigates, so each address the page
    loaded is fetched again here and compressed the way the gateway would.
    """
    start = raw = chart = 0
    for url in dict.fromkeys(u for u in urls if "/app" in u):
        body = httpx.get(url).content
        packed = len(gzip.compress(body, 6))
        if any(part in url for part in CHART_LIBRARIES):
            chart += packed
        else:
            start += packed
            raw += len(body)
    return start, raw, chart


def chart_weight() -> int:
    webapp = ROOT / "services" / "gateway" / "webapp" / "vendor"
    names = ("vega", "vega-lite", "vega-embed")
    files = [path for name in names for path in (webapp / name).glob("*.js")]
    return sum(len(gzip.compress(p.read_bytes(), 6)) for p in files)


def measure(page: Page, tries: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {
        "open": [],
        "dots": [],
        "delta": [],
        "started": [],
        "floor_key": [],
        "floor_task": [],
    }
    fab = page.locator("habyss-fab .fab")
    sheet = page.locator("dialog.sheet")
    box = page.get_by_placeholder("Ask me anything about your habits...")
    page.evaluate(LISTEN)
    page.evaluate(FLOOR_KEY)
    for i in range(tries):
        fab.click()
        sheet.wait_for(state="visible")
        until(page, f"performance.getEntriesByName('habyss:open-painted').length > {i}")
        marks = page.evaluate(MARKS, ["open-painted"])
        out["open"].append(marks["open-painted"] - page.evaluate("window.__at.tap"))
        # The floors with the sheet open, as the next two steps see the screen.
        page.keyboard.press("F9")
        out["floor_task"].append(page.evaluate(FLOOR_TASK))

        box.fill(QUESTIONS[i % len(QUESTIONS)])
        box.press("Enter")
        until(page, "!document.querySelector('habyss-fab.thinking')", 30)
        page.wait_for_timeout(50)
        marks = page.evaluate(MARKS, ["typing-visible", "run-started", "first-delta", "first-text"])
        out["dots"].append(marks["typing-visible"] - page.evaluate("window.__at.enter"))
        if marks["first-text"] is not None and marks["first-delta"] is not None:
            out["delta"].append(marks["first-text"] - marks["first-delta"])
            out["started"].append(marks["first-text"] - marks["run-started"])
        page.keyboard.press("Escape")
        sheet.wait_for(state="hidden")
        page.evaluate("performance.clearMarks('habyss:first-text')")
    out["floor_key"] = page.evaluate("window.__floorKey")
    return out


def run(base: str, tries: int) -> None:
    path = chromium_path()
    if path is None:
        print("bench/client: no chromium (apt-get install chromium); nothing measured")
        return
    account = sign_up_by_api(base)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=path, args=["--no-sandbox"])
        context = browser.new_context(viewport=VIEWPORT, base_url=base)
        page = context.new_page()
        page.goto("/app/")
        page.evaluate("t => localStorage.setItem('habyss.token', t)", account["token"])
        loaded: list[str] = []
        page.on("response", lambda response: loaded.append(response.url))
        # "load", not "networkidle": the notifications stream stays open.
        page.reload(wait_until="load")
        page.locator("habyss-home #habits").wait_for()
        start, raw, chart = page_weight(loaded)
        # A warm-up turn, so the first measured one does not pay for the agent's cold start.
        page.locator("habyss-fab .fab").click()
        page.get_by_placeholder("Ask me anything about your habits...").fill("hello")
        page.keyboard.press("Enter")
        until(page, "!document.querySelector('habyss-fab.thinking')", 60)
        page.keyboard.press("Escape")
        page.locator("dialog.sheet").wait_for(state="hidden")
        samples = measure(page, tries)
        browser.close()
    print(f"bench/client: Chromium {path}, viewport {VIEWPORT['width']}x{VIEWPORT['height']}")
    print(line("tap -> modal painted", samples["open"], 100, samples["floor_key"]))
    print(line("Enter -> typing dots painted", samples["dots"], 50, samples["floor_key"]))
    print(line("first text.delta -> text painted", samples["delta"], 30, samples["floor_task"]))
    print(
        f"{'run.started -> first text painted':<38} median "
        f"{statistics.median(samples['started']) if samples['started'] else float('nan'):6.1f} ms"
        "  (includes the assistant's thinking; informative)"
    )
    verdict = "within goal" if start < 500_000 else "OVER goal"
    print(
        f"{'/app at start, gzip (no chart libs)':<38} {start / 1024:6.1f} KB "
        f"({raw / 1024:.1f} KB raw; goal < 500 KB: {verdict})"
    )
    print(f"{'chart libraries, gzip (lazy)':<38} {(chart or chart_weight()) / 1024:6.1f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tries", type=int, default=10)
    parser.add_argument("--port-base", type=int, default=19300)
    parser.add_argument("--url", help="measure a running stack (make run) instead of starting one")
    args = parser.parse_args()
    if args.url:
        run(args.url.rstrip("/"), args.tries)
        return
    stack = BenchStack(
        port_base=args.port_base,
        env={"LLM_PROVIDER": "offline"},
        drop_env=("OPENAI_BASE_URL", "OPENAI_API_KEY", "LLM_MODEL", "LLM_FALLBACK_MODEL"),
    )
    with stack:
        run(stack.url, args.tries)


if __name__ == "__main__":
    main()
