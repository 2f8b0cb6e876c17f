// The assistant's modal: a bottom sheet at 75% height (expandable to full screen) over a blurred
// backdrop, closed by the backdrop, Escape, the close button or a swipe down; focus is trapped
// inside and returned on close. Context banner, quick-action chips and the input live here; the
// conversation itself is conversation.js.
import { api } from "./api.js";
import { insightsCard } from "./cards.js";
import { Conversation } from "./conversation.js";
import { h, haptic, mark, toast } from "./dom.js";

const MAX_CHARS = 4000;
const COUNTER_AFTER = 200;
const SWIPE_CLOSE_PX = 120;
const FOCUSABLE = "button:not([disabled]):not([hidden]), textarea, input:not([type=file]), "
  + "summary, a[href], [tabindex]:not([tabindex='-1'])";

const Speech = window.SpeechRecognition || window.webkitSpeechRecognition;

export class HabyssAssistant extends HTMLElement {
  connectedCallback() {
    this.build();
    this.fab = document.querySelector("habyss-fab");
    this.conversation = new Conversation(this.log, this.live, this.fab);
  }

  build() {
    this.closeButton = h("button", { type: "button", class: "icon", "aria-label": "Close assistant",
      onclick: () => this.close() }, "✕");
    this.expandButton = h("button", { type: "button", class: "icon", "aria-pressed": "false",
      "aria-label": "Full screen", onclick: () => this.expand() }, "⤢");
    this.banner = h("details", { class: "banner", hidden: true },
      h("summary", {}, h("span", { class: "banner-text" }), h("span", { class: "chevron",
        "aria-hidden": "true" }, "▾")),
      h("div", { class: "banner-more" }));
    this.log = h("section", { class: "log", "aria-label": "Conversation", tabindex: 0 });
    this.live = h("div", { class: "visually-hidden", "aria-live": "polite", role: "status" });
    this.chips = h("div", { class: "chips", role: "group", "aria-label": "Suggestions" });
    this.input = h("textarea", { rows: 1, maxlength: MAX_CHARS, "aria-label": "Message",
      placeholder: "Ask me anything about your habits...", enterkeyhint: "send" });
    this.counter = h("span", { class: "counter", hidden: true, "aria-live": "polite" });
    this.sendButton = h("button", { type: "submit", class: "send", "aria-label": "Send" }, "➤");
    this.micButton = h("button", { type: "button", class: "send mic", hidden: true,
      "aria-label": "Speak your message", onclick: () => this.listen() }, "🎤");
    this.file = h("input", { type: "file", class: "visually-hidden", tabindex: -1,
      accept: ".txt,.md,text/plain,text/markdown", "aria-hidden": "true" });
    const attach = h("button", { type: "button", class: "icon attach",
      "aria-label": "Attach a goal description file", onclick: () => this.file.click() }, "📎");
    this.form = h("form", { class: "composer" }, attach, this.file,
      h("div", { class: "input-wrap" }, this.input, this.counter), this.sendButton, this.micButton);
    this.handle = h("div", { class: "handle", "aria-hidden": "true" }, h("span"));
    this.header = h("header", { class: "sheet-head" },
      h("div", { class: "avatar", "aria-hidden": "true" }, "🤖"),
      h("div", { class: "titles" },
        h("h2", { id: "assistant-title" }, "Habyss AI Assistant"),
        h("p", { id: "assistant-subtitle" },
          "Here to help you build better habits based on your goals")),
      this.expandButton, this.closeButton);
    this.dialog = h("dialog", { class: "sheet", "aria-labelledby": "assistant-title",
      "aria-describedby": "assistant-subtitle" },
    h("div", { class: "sheet-body" }, this.handle, this.header, this.banner, this.log, this.live,
      this.chips, this.form));
    this.replaceChildren(this.dialog);

    this.dialog.addEventListener("click", (e) => { if (e.target === this.dialog) this.close(); });
    this.dialog.addEventListener("cancel", (e) => { e.preventDefault(); this.close(); });
    this.dialog.addEventListener("keydown", (e) => this.trap(e));
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.submit(); });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.inputChanged());
    this.file.addEventListener("change", () => this.attach());
    for (const zone of [this.handle, this.header]) {
      zone.addEventListener("pointerdown", (e) => this.swipeStart(e));
    }
    this.inputChanged();
  }

  get isOpen() { return this.dialog.open; }

  async open(opener) {
    mark("open");
    this.opener = opener || document.activeElement;
    if (!this.dialog.open) {
      this.dialog.classList.remove("closing");
      this.dialog.showModal();
      requestAnimationFrame(() => setTimeout(() => mark("open-painted"), 0));
      this.inputChanged();
      this.input.focus();
      haptic();
    }
    this.fab.unread = false;
    window.dispatchEvent(new CustomEvent("habyss:notifications-read"));
    this.loadContext();
    await this.conversation.loadHistory();
  }

  close() {
    if (!this.dialog.open) return;
    this.dialog.classList.add("closing");
    const done = () => {
      this.dialog.classList.remove("closing");
      this.dialog.style.transform = "";
      this.dialog.close();
      if (this.opener && this.opener.isConnected) this.opener.focus();
    };
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) done();
    else setTimeout(done, 160);
  }

  expand(force) {
    const full = force ?? !this.dialog.classList.contains("full");
    this.dialog.classList.toggle("full", full);
    this.expandButton.setAttribute("aria-pressed", String(full));
    this.expandButton.setAttribute("aria-label", full ? "Half screen" : "Full screen");
  }

  // Tab and Shift+Tab cycle inside the sheet.
  trap(event) {
    if (event.key !== "Tab") return;
    const items = [...this.dialog.querySelectorAll(FOCUSABLE)].filter((el) =>
      el.offsetParent !== null || el === document.activeElement);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  swipeStart(event) {
    if (event.target.closest("button")) return;
    const startY = event.clientY;
    let dy = 0;
    const zone = event.currentTarget;
    zone.setPointerCapture(event.pointerId);
    const move = (e) => {
      dy = e.clientY - startY;
      this.dialog.style.transform = dy > 0 ? `translateY(${dy}px)` : "";
    };
    const end = () => {
      zone.removeEventListener("pointermove", move);
      zone.removeEventListener("pointerup", end);
      zone.removeEventListener("pointercancel", end);
      if (dy > SWIPE_CLOSE_PX) this.close();
      else {
        this.dialog.style.transform = "";
        if (dy < -60) this.expand(true);
      }
    };
    zone.addEventListener("pointermove", move);
    zone.addEventListener("pointerup", end);
    zone.addEventListener("pointercancel", end);
  }

  async loadContext() {
    let context;
    try {
      context = await api("GET", "/assistant/context");
    } catch {
      return;
    }
    this.banner.hidden = !context.banner;
    this.banner.querySelector(".banner-text").textContent = context.banner;
    const more = [`${context.active_habits} active habit${context.active_habits === 1 ? "" : "s"}`];
    if (context.active_plan) {
      const plan = context.active_plan;
      more.push(`Plan “${plan.name}”: phase ${plan.phase} of ${plan.phases} (${plan.phase_name})`);
    }
    if (context.has_new_suggestion) more.push("A new suggestion is waiting for you");
    this.banner.querySelector(".banner-more").replaceChildren(
      h("ul", {}, more.map((line) => h("li", {}, line))));
    this.chips.replaceChildren(...context.chips.map((chip) => h("button", { type: "button",
      class: "chip", onclick: () => this.ask(chip.prompt) }, chip.label)));
  }

  inputChanged() {
    const input = this.input;
    input.style.height = "auto";
    // Empty, it is as tall as its placeholder, which wraps on a narrow phone.
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
    const length = input.value.length;
    this.counter.hidden = length <= COUNTER_AFTER;
    this.counter.textContent = `${length} / ${MAX_CHARS}`;
    this.counter.classList.toggle("near", length > MAX_CHARS - 200);
    const empty = !input.value.trim();
    this.micButton.hidden = !(empty && Speech);
    this.sendButton.hidden = empty && Boolean(Speech);
    this.sendButton.disabled = empty;
  }

  submit() {
    const text = this.input.value.trim();
    if (!text || this.conversation.running) return;
    this.input.value = "";
    this.inputChanged();
    this.ask(text);
  }

  ask(text) {
    haptic();
    return this.conversation.send(text);
  }

  async showInsights() {
    try {
      const insights = await api("GET", "/insights");
      const note = h("div", { class: "msg assistant" }, insightsCard(insights));
      this.log.append(note);
      this.conversation.scroll();
    } catch (error) {
      toast(error.message);
    }
  }

  async attach() {
    const [file] = this.file.files;
    this.file.value = "";
    if (!file) return;
    if (file.size > 64 * 1024) {
      toast("That file is too long: attach a short goal description (under 64 KB).");
      return;
    }
    const text = (await file.text()).trim().slice(0, MAX_CHARS - 40);
    this.input.value = `My goal, from ${file.name}:\n${text}`.slice(0, MAX_CHARS);
    this.inputChanged();
    this.input.focus();
  }

  listen() {
    const recognition = new Speech();
    recognition.lang = document.documentElement.lang || "en";
    recognition.interimResults = false;
    recognition.addEventListener("result", (event) => {
      this.input.value = Array.from(event.results, (r) => r[0].transcript).join(" ");
      this.inputChanged();
      this.input.focus();
    });
    recognition.addEventListener("error", () => toast("Voice input is not available."));
    this.micButton.classList.add("listening");
    recognition.addEventListener("end", () => this.micButton.classList.remove("listening"));
    recognition.start();
  }
}

customElements.define("habyss-assistant", HabyssAssistant);
