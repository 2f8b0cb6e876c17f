// The app shell: sign-in or home, the floating button and the assistant, wired together.
import { token, setToken } from "./api.js";
import "./assistant.js";
import "./auth.js";
import "./fab.js";
import "./home.js";
import { h } from "./dom.js";
import { watchNotifications } from "./notifications.js";

const view = document.getElementById("view");
const fab = document.querySelector("habyss-fab");
const assistant = document.querySelector("habyss-assistant");
const signOut = document.getElementById("sign-out");
let stopNotifications = null;

function show() {
  const signedIn = Boolean(token());
  fab.hidden = !signedIn;
  signOut.hidden = !signedIn;
  if (stopNotifications) stopNotifications();
  stopNotifications = null;
  if (signedIn) {
    view.replaceChildren(h("habyss-home"));
    stopNotifications = watchNotifications(fab);
  } else {
    if (assistant.isOpen) assistant.close();
    view.replaceChildren(h("habyss-auth"));
  }
}

fab.addEventListener("fab-open", () => assistant.open(fab.button));
fab.addEventListener("fab-action", async ({ detail }) => {
  await assistant.open(fab.button);
  if (detail.prompt) assistant.ask(detail.prompt);
  else assistant.showInsights();
});
signOut.addEventListener("click", () => {
  setToken(null);
  assistant.conversation.reset();
  show();
});
window.addEventListener("habyss:signed-in", () => {
  assistant.conversation.reset();
  show();
  view.focus();
});
window.addEventListener("habyss:signed-out", show);
show();
