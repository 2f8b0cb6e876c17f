// Sign in and sign up: one form, two modes.
import { api, setToken } from "./api.js";
import { h } from "./dom.js";

export class HabyssAuth extends HTMLElement {
  connectedCallback() {
    this.mode = "signin";
    this.render();
  }

  render() {
    const signup = this.mode === "signup";
    const error = h("p", { class: "error", role: "alert", id: "auth-error" });
    const form = h("form", { class: "auth panel", "aria-describedby": "auth-error" },
      h("h2", {}, signup ? "Create your account" : "Welcome back"),
      h("p", { class: "muted" }, "Tiny habits, stacked into the goals you care about."),
      signup ? field("Name", h("input", { name: "display_name", autocomplete: "name" })) : null,
      field("Email", h("input", { name: "email", type: "email", required: true,
        autocomplete: "email" })),
      field("Password", h("input", { name: "password", type: "password", required: true,
        minlength: 8, autocomplete: signup ? "new-password" : "current-password" })),
      error,
      h("button", { type: "submit", class: "primary wide" }, signup ? "Sign up" : "Sign in"),
      h("button", { type: "button", class: "link", onclick: () => this.toggle() },
        signup ? "I already have an account" : "New here? Create an account"));
    form.addEventListener("submit", (event) => this.submit(event, form, error));
    this.replaceChildren(form);
  }

  toggle() {
    this.mode = this.mode === "signup" ? "signin" : "signup";
    this.render();
    this.querySelector("input").focus();
  }

  async submit(event, form, error) {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.textContent = "";
    try {
      let answer;
      if (this.mode === "signup") {
        const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
        answer = await api("POST", "/auth/register", {
          email: data.email, password: data.password, timezone,
          display_name: data.display_name || null,
        });
      } else {
        answer = await api("POST", "/auth/token", { email: data.email, password: data.password });
      }
      setToken(answer.access_token);
      window.dispatchEvent(new CustomEvent("habyss:signed-in"));
    } catch (failure) {
      error.textContent = failure.message;
      button.disabled = false;
    }
  }
}

export function field(label, input) {
  return h("label", { class: "field" }, h("span", {}, label), input);
}

customElements.define("habyss-auth", HabyssAuth);
