// The floating "H" button: tap opens the assistant, long press (or right click, Shift+F10, the
// context-menu key) opens the quick menu, drag moves it and it snaps to the nearest edge or
// corner, remembered across visits. Its states: breathing when idle, a pulsing glow while a
// turn is thinking, a progress ring while a tool runs, a red dot for an unread nudge.
import { h, haptic } from "./dom.js";

const LONG_PRESS_MS = 500;
const DRAG_START_PX = 8;
const MARGIN = 16;
const CORNER_ZONE = 96;
const POSITION_KEY = "habyss.fab";

export const QUICK_ACTIONS = [
  { id: "progress", label: "Analyse my progress", prompt: "Analyze my progress" },
  { id: "suggest", label: "Suggest habits", prompt: "Suggest some new habits for me" },
  { id: "insights", label: "View insights", prompt: null },
];

export class HabyssFab extends HTMLElement {
  connectedCallback() {
    this.button = h("button", { type: "button", class: "fab", "aria-label": "Habyss AI Assistant",
      "aria-haspopup": "dialog", title: "Habyss AI Assistant (long press for quick actions)" },
    // The face breathes, not the button: its box (the touch target) stays still.
    h("span", { class: "face", "aria-hidden": "true" }, h("img", { src: "icon.svg", alt: "",
      class: "logo", width: 40, height: 40, draggable: "false" })),
    ring(), h("span", { class: "dot", "aria-hidden": "true" }));
    this.status = h("span", { class: "visually-hidden", role: "status" });
    this.menu = h("div", { class: "fab-menu", role: "menu", "aria-label": "Quick actions",
      hidden: true },
    QUICK_ACTIONS.map((action) => h("button", { type: "button", role: "menuitem", tabindex: -1,
      dataset: { action: action.id }, onclick: () => this.choose(action) }, action.label)));
    this.replaceChildren(this.button, this.menu, this.status);
    this.restore();
    this.button.addEventListener("pointerdown", (e) => this.down(e));
    this.button.addEventListener("pointermove", (e) => this.move(e));
    this.button.addEventListener("pointerup", (e) => this.up(e));
    this.button.addEventListener("pointercancel", () => this.cancel());
    this.button.addEventListener("click", (e) => this.click(e));
    this.button.addEventListener("contextmenu", (e) => { e.preventDefault(); this.openMenu(); });
    this.button.addEventListener("keydown", (e) => {
      if ((e.shiftKey && e.key === "F10") || e.key === "ContextMenu") {
        e.preventDefault();
        this.openMenu();
      }
    });
    this.menu.addEventListener("keydown", (e) => this.menuKey(e));
    document.addEventListener("pointerdown", (e) => {
      if (!this.menu.hidden && !this.contains(e.target)) this.closeMenu(false);
    });
    window.addEventListener("resize", () => this.restore());
  }

  set thinking(on) { this.classList.toggle("thinking", on); }

  set busy(on) {
    this.classList.toggle("busy", on);
    this.status.textContent = on ? "Working on it…" : "";
  }

  set unread(on) {
    this.classList.toggle("unread", on);
    this.button.setAttribute("aria-label",
      on ? "Habyss AI Assistant, new suggestion" : "Habyss AI Assistant");
  }

  get unread() { return this.classList.contains("unread"); }

  down(event) {
    if (event.button !== 0) return;
    this.press = { x: event.clientX, y: event.clientY, dragging: false, long: false,
      left: this.getBoundingClientRect().left, top: this.getBoundingClientRect().top };
    this.button.setPointerCapture(event.pointerId);
    this.timer = setTimeout(() => {
      if (this.press && !this.press.dragging) {
        this.press.long = true;
        this.openMenu();
      }
    }, LONG_PRESS_MS);
  }

  move(event) {
    const press = this.press;
    if (!press || press.long) return;
    const dx = event.clientX - press.x;
    const dy = event.clientY - press.y;
    if (!press.dragging && Math.hypot(dx, dy) < DRAG_START_PX) return;
    if (!press.dragging) {
      press.dragging = true;
      clearTimeout(this.timer);
      this.classList.add("dragging");
    }
    this.place(press.left + dx, press.top + dy);
  }

  up() {
    clearTimeout(this.timer);
    const press = this.press;
    if (press && press.dragging) {
      this.classList.remove("dragging");
      this.snap();
      haptic();
    }
  }

  cancel() {
    clearTimeout(this.timer);
    this.classList.remove("dragging");
    if (this.press && this.press.dragging) this.snap();
    this.press = null;
  }

  click(event) {
    const press = this.press;
    this.press = null;
    if (press && (press.dragging || press.long)) {
      event.preventDefault();
      return;
    }
    haptic();
    this.dispatchEvent(new CustomEvent("fab-open", { bubbles: true }));
  }

  place(left, top) {
    const size = this.button.offsetWidth;
    const x = Math.min(Math.max(0, left), window.innerWidth - size);
    const y = Math.min(Math.max(0, top), window.innerHeight - size);
    this.style.left = `${x}px`;
    this.style.top = `${y}px`;
    this.style.right = "auto";
    this.style.bottom = "auto";
  }

  // To the nearer side; into the corner when it was dropped near the top or bottom.
  snap() {
    const rect = this.getBoundingClientRect();
    const size = rect.width;
    const side = rect.left + size / 2 < window.innerWidth / 2 ? "left" : "right";
    const free = window.innerHeight - size - 2 * MARGIN;
    let offset = Math.min(Math.max(0, rect.top - MARGIN), free);
    if (offset < CORNER_ZONE) offset = 0;
    if (free - offset < CORNER_ZONE) offset = free;
    const position = { side, fraction: free > 0 ? offset / free : 1 };
    localStorage.setItem(POSITION_KEY, JSON.stringify(position));
    this.apply(position);
  }

  restore() {
    try {
      const saved = JSON.parse(localStorage.getItem(POSITION_KEY));
      if (saved && (saved.side === "left" || saved.side === "right")) this.apply(saved);
    } catch {
      localStorage.removeItem(POSITION_KEY);
    }
  }

  apply({ side, fraction }) {
    const size = this.button.offsetWidth || 56;
    const free = window.innerHeight - size - 2 * MARGIN;
    const left = side === "left" ? MARGIN : window.innerWidth - size - MARGIN;
    this.place(left, MARGIN + Math.max(0, free) * Math.min(Math.max(fraction, 0), 1));
    this.dataset.side = side;
  }

  openMenu() {
    if (!this.menu.hidden) return;
    haptic(20);
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.menu.classList.toggle("above", this.getBoundingClientRect().top > 200);
    this.menu.classList.toggle("right", this.dataset.side !== "left");
    this.menu.querySelector("[role=menuitem]").focus();
  }

  closeMenu(refocus = true) {
    this.menu.hidden = true;
    this.button.removeAttribute("aria-expanded");
    if (refocus) this.button.focus();
  }

  menuKey(event) {
    const items = [...this.menu.querySelectorAll("[role=menuitem]")];
    const at = items.indexOf(document.activeElement);
    const moves = { ArrowDown: 1, ArrowUp: -1, Home: -at, End: items.length - 1 - at };
    if (event.key in moves) {
      event.preventDefault();
      items[(at + moves[event.key] + items.length) % items.length].focus();
    } else if (event.key === "Escape" || event.key === "Tab") {
      event.preventDefault();
      this.closeMenu();
    }
  }

  choose(action) {
    this.closeMenu(false);
    this.dispatchEvent(new CustomEvent("fab-action", { bubbles: true, detail: action }));
  }
}

function ring() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "ring");
  svg.setAttribute("viewBox", "0 0 64 64");
  svg.setAttribute("aria-hidden", "true");
  const circle = document.createElementNS(ns, "circle");
  for (const [key, value] of Object.entries({ cx: 32, cy: 32, r: 30, pathLength: 100 })) {
    circle.setAttribute(key, value);
  }
  svg.append(circle);
  return svg;
}

customElements.define("habyss-fab", HabyssFab);
