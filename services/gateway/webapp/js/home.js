// The home screen: the active plan, today's habits with one-tap check-in, streak and completion
// rate from the metrics API, and creating or editing a habit.
import { api } from "./api.js";
import { field } from "./auth.js";
import { h, haptic, percent, toast } from "./dom.js";

const SCHEDULES = {
  daily: { type: "interval", every: 1, unit: "day", times: 1 },
  "3-week": { type: "interval", every: 1, unit: "week", times: 3 },
  weekly: { type: "interval", every: 1, unit: "week", times: 1 },
};

function scheduleLabel(schedule) {
  if (schedule.type === "weekdays") return schedule.days.join(", ");
  const per = schedule.every === 1 ? schedule.unit : `${schedule.every} ${schedule.unit}s`;
  if (schedule.unit === "day" && schedule.every === 1 && schedule.times === 1) return "Every day";
  return `${schedule.times}× per ${per}`;
}

function scheduleKey(schedule) {
  return Object.keys(SCHEDULES).find((key) =>
    JSON.stringify(SCHEDULES[key]) === JSON.stringify(schedule)) || "custom";
}

function streakLabel(metrics) {
  if (!metrics) return "…";
  const unit = metrics.streak_unit || "day";
  const n = metrics.current_streak;
  return `🔥 ${n} ${unit}${n === 1 ? "" : "s"} streak`;
}

export class HabyssHome extends HTMLElement {
  connectedCallback() {
    this.onChanged = () => this.refresh();
    window.addEventListener("habyss:changed", this.onChanged);
    this.replaceChildren(
      h("section", { class: "hero", "aria-labelledby": "today-title" },
        h("h2", { id: "today-title" }, "Today"),
        h("p", { class: "muted", id: "today-date" },
          new Date().toLocaleDateString(undefined, { weekday: "long", month: "long", day: "numeric" }))),
      h("section", { class: "plan", id: "active-plan", "aria-live": "polite", hidden: true }),
      h("section", { "aria-labelledby": "habits-title" },
        h("div", { class: "section-head" },
          h("h2", { id: "habits-title" }, "Your habits"),
          h("button", { type: "button", class: "secondary", id: "new-habit",
            onclick: () => this.editor(null) }, "+ New habit")),
        h("div", { id: "editor" }),
        h("ul", { class: "habits", id: "habits" })));
    this.refresh();
  }

  disconnectedCallback() {
    window.removeEventListener("habyss:changed", this.onChanged);
  }

  async refresh() {
    let habits;
    let context;
    try {
      [habits, context] = await Promise.all([
        api("GET", "/habits"),
        api("GET", "/assistant/context").catch(() => null),
      ]);
    } catch (error) {
      // A 401 has already sent the user to sign-in.
      if (error.status !== 401) toast(error.message);
      return;
    }
    this.renderPlan(context && context.active_plan);
    const list = this.querySelector("#habits");
    if (!habits.length) {
      list.replaceChildren(h("li", { class: "empty" },
        "No habits yet. Add one, or tap the H button and tell the assistant a goal."));
      return;
    }
    list.replaceChildren(...habits.map((habit) => this.row(habit)));
    await Promise.all(habits.map((habit) => this.loadMetrics(habit.id)));
  }

  renderPlan(plan) {
    const box = this.querySelector("#active-plan");
    box.hidden = !plan;
    if (!plan) return;
    box.replaceChildren(
      h("p", { class: "eyebrow" }, "Active plan"),
      h("h2", {}, plan.name),
      h("p", {}, `Phase ${plan.phase} of ${plan.phases}: ${plan.phase_name}`),
      h("div", { class: "meter", role: "progressbar", "aria-label": "Plan progress",
        "aria-valuemin": 0, "aria-valuemax": plan.phases, "aria-valuenow": plan.phase },
      h("span", { class: `fill fill-${Math.min(10, Math.round((10 * plan.phase) / plan.phases))}` })));
  }

  row(habit) {
    const stats = h("p", { class: "stats muted" },
      h("span", { class: "streak" }, "…"), " · ",
      h("span", { class: "rate" }, "…"), " this week · ", scheduleLabel(habit.schedule));
    const actions = h("div", { class: "row-actions" });
    if (habit.kind === "quantity") {
      const input = h("input", { type: "number", min: 0, step: "any", inputmode: "decimal",
        "aria-label": `${habit.title}: amount in ${habit.target.unit}`, class: "amount" });
      actions.append(input, h("span", { class: "muted unit" }, habit.target.unit),
        h("button", { type: "button", class: "primary check",
          onclick: (e) => this.checkIn(habit, e.currentTarget, input) }, "Log"));
    } else {
      const label = habit.kind === "negative" ? "Log a slip" : "Check in";
      actions.append(h("button", { type: "button", class: "primary check",
        "aria-label": `${label}: ${habit.title}`,
        onclick: (e) => this.checkIn(habit, e.currentTarget, null) }, label));
    }
    actions.append(h("button", { type: "button", class: "icon", "aria-label": `Edit ${habit.title}`,
      onclick: () => this.editor(habit) }, "✎"));
    return h("li", { class: "habit", dataset: { habitId: habit.id, kind: habit.kind } },
      h("div", { class: "habit-main" }, h("h3", {}, habit.title), stats), actions);
  }

  async loadMetrics(habitId, previous = null) {
    // Metrics are recomputed from the log event, a moment after the log is written.
    for (let attempt = 0; attempt < 60; attempt++) {
      let metrics = null;
      try {
        metrics = await api("GET", `/habits/${habitId}/metrics`);
      } catch {
        // The metrics service may be catching up: keep the last figures on screen.
      }
      if (metrics && (previous === null || metrics.total_completions > previous)) {
        this.showMetrics(habitId, metrics);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  showMetrics(habitId, metrics) {
    const row = this.querySelector(`[data-habit-id="${habitId}"]`);
    if (!row) return;
    row.querySelector(".streak").textContent = streakLabel(metrics);
    row.querySelector(".rate").textContent = percent(metrics.completion_rate_week);
    row.dataset.total = metrics.total_completions;
    const done = metrics.last_completed_on === metrics.as_of && row.dataset.kind !== "negative";
    row.classList.toggle("done", done);
    const button = row.querySelector("button.check");
    if (done && row.dataset.kind === "boolean") {
      button.textContent = "Done ✓";
      button.disabled = true;
    }
  }

  async checkIn(habit, button, input) {
    const body = {};
    if (input) {
      if (input.value === "" || Number(input.value) < 0) {
        input.focus();
        toast(`Enter how many ${habit.target.unit}.`);
        return;
      }
      body.value = Number(input.value);
    }
    haptic(15);
    button.disabled = true;
    const row = button.closest(".habit");
    const before = Number(row.dataset.total ?? 0);
    try {
      await api("POST", `/habits/${habit.id}/logs`, body);
      if (input) input.value = "";
      toast(`Logged “${habit.title}”.`);
      await this.loadMetrics(habit.id, before);
    } catch (error) {
      toast(error.message);
    } finally {
      if (habit.kind !== "boolean" || !row.classList.contains("done")) button.disabled = false;
    }
  }

  editor(habit) {
    const box = this.querySelector("#editor");
    const kind = h("select", { name: "kind", disabled: habit ? true : null },
      h("option", { value: "boolean" }, "Yes / no"),
      h("option", { value: "quantity" }, "An amount"),
      h("option", { value: "negative" }, "Something to avoid"));
    const schedule = h("select", { name: "schedule" },
      h("option", { value: "daily" }, "Every day"),
      h("option", { value: "3-week" }, "3 times a week"),
      h("option", { value: "weekly" }, "Once a week"));
    const target = h("div", { class: "target", hidden: true },
      field("Target", h("input", { name: "target_value", type: "number", min: 0, step: "any",
        value: habit?.target?.value })),
      field("Unit", h("input", { name: "target_unit", placeholder: "minutes",
        value: habit?.target?.unit })));
    const error = h("p", { class: "error", role: "alert" });
    const form = h("form", { class: "panel editor" },
      h("h3", {}, habit ? `Edit “${habit.title}”` : "New habit"),
      field("Name", h("input", { name: "title", required: true, maxlength: 200,
        value: habit?.title, placeholder: "e.g. Walk for 10 minutes" })),
      field("Type", kind), target, field("How often", schedule), error,
      h("div", { class: "card-actions" },
        h("button", { type: "submit", class: "primary" }, habit ? "Save" : "Add habit"),
        h("button", { type: "button", class: "secondary",
          onclick: () => box.replaceChildren() }, "Cancel"),
        habit ? h("button", { type: "button", class: "danger",
          onclick: () => this.archive(habit, box) }, "Archive") : null));
    if (habit) {
      kind.value = habit.kind;
      const key = scheduleKey(habit.schedule);
      if (key === "custom") schedule.prepend(h("option", { value: "custom" }, scheduleLabel(habit.schedule)));
      schedule.value = key;
    }
    const sync = () => { target.hidden = kind.value !== "quantity"; };
    kind.addEventListener("change", sync);
    sync();
    form.addEventListener("submit", (event) => this.save(event, form, habit, error, box));
    box.replaceChildren(form);
    form.querySelector("input[name=title]").focus();
  }

  async save(event, form, habit, error, box) {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const kind = habit ? habit.kind : data.kind;
    const body = { title: data.title.trim() };
    if (data.schedule !== "custom") body.schedule = SCHEDULES[data.schedule];
    if (kind === "quantity") {
      body.target = { value: Number(data.target_value), unit: data.target_unit || "units" };
    }
    if (!habit) body.kind = kind;
    try {
      if (habit) await api("PATCH", `/habits/${habit.id}`, body);
      else await api("POST", "/habits", body);
      box.replaceChildren();
      toast(habit ? "Saved." : `Added “${body.title}”.`);
      await this.refresh();
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  async archive(habit, box) {
    await api("DELETE", `/habits/${habit.id}`);
    box.replaceChildren();
    toast(`Archived “${habit.title}”.`);
    await this.refresh();
  }
}

customElements.define("habyss-home", HabyssHome);
