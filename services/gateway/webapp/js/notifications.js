// The red dot: /v1/notifications streams delivered nudges (and reminders); one the user has not
// seen yet lights the button's dot until the assistant is opened. The stream reconnects with a
// growing delay, and stops on sign-out.
import { stream } from "./api.js";
import { mark } from "./dom.js";

const SEEN_KEY = "habyss.seen";
const KINDS = new Set(["nudge", "reminder"]);

function seen() {
  try {
    return new Set(JSON.parse(localStorage.getItem(SEEN_KEY)) || []);
  } catch {
    return new Set();
  }
}

export function watchNotifications(fab) {
  const controller = new AbortController();
  const pending = new Set();
  const markRead = () => {
    const ids = seen();
    for (const id of pending) ids.add(id);
    pending.clear();
    localStorage.setItem(SEEN_KEY, JSON.stringify([...ids].slice(-200)));
  };
  window.addEventListener("habyss:notifications-read", markRead, { signal: controller.signal });

  (async () => {
    let delay = 1000;
    while (!controller.signal.aborted) {
      try {
        for await (const record of stream("GET", "/notifications", undefined,
          { signal: controller.signal })) {
          delay = 1000;
          mark("notifications");
          if (!KINDS.has(record.event)) continue;
          const id = record.id || record.data.id;
          if (seen().has(id)) continue;
          pending.add(id);
          const assistant = document.querySelector("habyss-assistant");
          if (assistant && assistant.isOpen) markRead();
          else fab.unread = true;
        }
      } catch (error) {
        if (controller.signal.aborted || error.status === 401) return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 30000);
    }
  })();
  return () => controller.abort();
}
