// One conversation on screen: messages with timestamps, typing dots until the first text, text
// streamed as it arrives, cards, the history reloaded from /v1/conversations, and the failure
// states (a lost connection offers a retry that never sends the user's message twice).
import { ApiError, api, stream } from "./api.js";
import { renderCard } from "./cards.js";
import { h, mark, timeLabel, toast } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

const CONVERSATION_KEY = "habyss.conversation";
const RESUME_POLLS = 30;

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

// After the browser has painted what was just put on screen.
function painted(name) {
  requestAnimationFrame(() => setTimeout(() => mark(name), 0));
}

export class Conversation {
  constructor(log, live, fab) {
    this.log = log;
    this.live = live;
    this.fab = fab;
    this.id = localStorage.getItem(CONVERSATION_KEY);
    this.loaded = false;
    this.running = false;
  }

  reset() {
    this.id = null;
    this.loaded = false;
    localStorage.removeItem(CONVERSATION_KEY);
    this.log.replaceChildren();
  }

  setId(id) {
    this.id = id;
    localStorage.setItem(CONVERSATION_KEY, id);
  }

  // The latest conversation's messages, once per page load.
  async loadHistory() {
    if (this.loaded) return;
    this.loaded = true;
    try {
      if (!this.id) {
        const { conversations } = await api("GET", "/conversations");
        if (!conversations.length) return this.greet();
        this.setId(conversations[0].id);
      }
      const { messages } = await api("GET", `/conversations/${this.id}/messages?limit=50`);
      if (!messages.length) return this.greet();
      for (const message of messages) this.show(message);
      this.scroll();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.reset();
        this.loaded = true;
        return this.greet();
      }
      this.loaded = false;
      toast("Your earlier conversation could not be loaded.");
    }
  }

  greet() {
    const bubble = this.bubble("assistant", new Date());
    renderMarkdown(bubble.querySelector(".text"),
      "Hi! Tell me a goal, like **“I want to run a 5k in 3 months”**, and I’ll turn it into "
      + "tiny habits you can start today.");
  }

  show(message) {
    const bubble = this.bubble(message.role, new Date(message.created_at));
    const text = bubble.querySelector(".text");
    if (message.role === "assistant") renderMarkdown(text, message.content);
    else text.textContent = message.content;
    for (const card of message.cards || []) this.attach(bubble, renderCard(card));
  }

  bubble(role, when) {
    const element = h("div", { class: `msg ${role}` },
      h("div", { class: "bubble" }, h("span", { class: "visually-hidden" },
        role === "user" ? "You said: " : "Assistant: "), h("div", { class: "text" })),
      h("time", { datetime: when.toISOString() }, timeLabel(when)));
    this.log.append(element);
    return element;
  }

  // Cards go under the message's text, above its timestamp.
  attach(message, card) {
    message.insertBefore(card, message.querySelector("time"));
  }

  typing() {
    const dots = h("div", { class: "msg assistant typing", role: "status",
      "aria-label": "The assistant is typing" },
    h("div", { class: "bubble" }, h("span", { class: "dots", "aria-hidden": "true" },
      h("i"), h("i"), h("i"))));
    this.log.append(dots);
    this.scroll();
    return dots;
  }

  // In the next frame, where the layout is computed anyway, rather than forcing one now.
  scroll() {
    requestAnimationFrame(() => { this.log.scrollTop = this.log.scrollHeight; });
  }

  // Sends `message`; `retrying` re-sends a message already on screen without showing it again.
  async send(message, retrying = false) {
    if (this.running) return;
    this.running = true;
    mark("send");
    if (!retrying) this.bubble("user", new Date()).querySelector(".text").textContent = message;
    const turn = { message, started: false, id: null, conversationId: this.id, done: false };
    turn.dots = this.typing();
    painted("typing-visible");
    this.fab.thinking = true;
    try {
      const body = { message };
      if (this.id) body.conversation_id = this.id;
      for await (const record of stream("POST", "/chat", body)) {
        const first = !turn.text;
        this.handle(turn, record.event, record.data);
        // Events that arrive together are read without a pause: let the first text and each
        // card be painted before the rest is worked through, so no frame carries them all.
        if ((first && turn.text) || record.event === "card") await nextFrame();
        if (turn.done) break;
      }
      if (!turn.done) throw new TypeError("the stream ended early");
    } catch (error) {
      this.lost(turn, error);
    } finally {
      turn.dots.remove();
      this.fab.thinking = false;
      this.fab.busy = false;
      this.running = false;
    }
  }

  handle(turn, event, data) {
    if (event === "run.started") {
      mark("run-started");
      turn.started = true;
      turn.id = data.turn_id;
      turn.conversationId = data.conversation_id;
      if (data.conversation_id) this.setId(data.conversation_id);
    } else if (event === "text.delta") {
      if (!turn.text) {
        mark("first-delta");
        this.reply(turn);
        turn.target.textContent = data.text;
        turn.target.parentElement.classList.remove("pending");
        turn.text = data.text;
        painted("first-text");
      } else {
        turn.text += data.text;
        renderMarkdown(turn.target, turn.text);
      }
      this.scroll();
    } else if (event === "tool.call.started") {
      this.fab.busy = true;
    } else if (event === "tool.call.completed") {
      this.fab.busy = false;
    } else if (event === "card") {
      this.attach(this.reply(turn), renderCard(data.card));
      this.scroll();
    } else if (event === "run.completed") {
      turn.done = true;
      const target = this.reply(turn).querySelector(".text");
      const text = data.text || turn.text || "";
      if (text) {
        renderMarkdown(target, text);
        target.parentElement.classList.remove("pending");
      }
      this.live.textContent = target.textContent;
      this.scroll();
    } else if (event === "run.failed") {
      turn.done = true;
      this.failed(turn, data.message || "Something went wrong on my side.", "resend");
    }
  }

  // The assistant bubble of this turn, made when a card or the end arrives before any text.
  reply(turn) {
    if (!turn.bubble) {
      turn.dots.remove();
      turn.bubble = this.bubble("assistant", new Date());
      turn.target = turn.bubble.querySelector(".text");
      // Hidden until text arrives: a card may come first.
      turn.target.parentElement.classList.add("pending");
      turn.text = "";
    }
    return turn.bubble;
  }

  lost(turn, error) {
    if (error instanceof ApiError) {
      const again = error.status !== 401 && error.status !== 422 ? "resend" : null;
      this.failed(turn, error.message, again);
      return;
    }
    const again = turn.started ? "resume" : "resend";
    this.failed(turn, "The connection dropped before my reply arrived.", again);
  }

  // `again`: "resend" sends the message again (no second bubble), "resume" reads the reply of a
  // turn the server already has, null offers no retry.
  failed(turn, message, again) {
    const note = h("div", { class: "msg assistant failed", role: "alert" },
      h("div", { class: "bubble" }, h("p", {}, `Sorry — ${message}`)));
    if (again) {
      const retry = h("button", { type: "button", class: "secondary" }, "Retry");
      retry.addEventListener("click", () => {
        note.remove();
        if (again === "resume") this.resume(turn);
        else this.send(turn.message, true);
      });
      note.querySelector(".bubble").append(retry);
    }
    this.log.append(note);
    this.live.textContent = `Sorry — ${message}`;
    this.scroll();
  }

  // The turn reached the assistant before the connection dropped: it finishes on the server, so
  // its reply is read from the history instead of sending the message again.
  async resume(turn) {
    this.running = true;
    const dots = this.typing();
    this.fab.thinking = true;
    try {
      for (let attempt = 0; attempt < RESUME_POLLS; attempt++) {
        const { messages } = await api("GET",
          `/conversations/${turn.conversationId}/messages?limit=20`);
        const reply = messages.find((m) => m.role === "assistant" && m.turn_id === turn.id);
        if (reply) {
          turn.bubble?.remove();
          dots.remove();
          this.show(reply);
          this.live.textContent = reply.content;
          this.scroll();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      dots.remove();
      this.failed(turn, "the reply is taking long; it will be in your history.", "resume");
    } catch (error) {
      dots.remove();
      this.lost(turn, error);
    } finally {
      dots.remove();
      this.fab.thinking = false;
      this.running = false;
    }
  }
}
