// The assistant's rich cards, one renderer per card type the agent emits. A type this client
// does not know yet is shown generically (its title and plain fields), never dropped.
import { api } from "./api.js";
import { h, haptic, percent, toast } from "./dom.js";

function card(type, title, ...body) {
  return h("article", { class: `card card-${type}`, dataset: { card: type } },
    h("h3", { class: "card-title" }, title), ...body);
}

function changed() {
  window.dispatchEvent(new CustomEvent("habyss:changed"));
}

function weeks(value) {
  return typeof value === "number" ? String(Math.round(value * 10) / 10) : "?";
}

function sequenceCard(data) {
  const plan = data.plan || {};
  const phases = plan.phases || [];
  const start = h("button", { type: "button", class: "primary" }, "Start this plan");
  start.addEventListener("click", async () => {
    start.disabled = true;
    start.textContent = "Starting…";
    haptic();
    try {
      const sequence = await api("POST", `/sequences/${data.sequence_id}/activate`);
      start.textContent = sequence.status === "active" ? "Started ✓" : "Start this plan";
      toast(`“${plan.name}” is active: phase 1 habits are on your home screen.`);
      changed();
    } catch (error) {
      start.disabled = false;
      start.textContent = "Start this plan";
      toast(error.message);
    }
  });
  return card("habit_sequence", plan.name || "Habit sequence",
    plan.description ? h("p", {}, plan.description) : null,
    h("p", { class: "muted" },
      `${phases.length} phases · ${weeks(plan.total_duration_weeks)} weeks`),
    h("ol", { class: "phases" }, phases.map((phase) => h("li", {},
      h("strong", {}, `Phase ${phase.phase_number}: ${phase.name}`),
      h("span", { class: "muted" }, ` · ${weeks(phase.duration_weeks)} weeks`),
      h("ul", {}, (phase.habits || []).map((habit) => h("li", {},
        `${habit.name} — ${habit.duration_minutes} min, ${habit.frequency}`,
        habit.stack_trigger ? h("span", { class: "muted" }, ` (${habit.stack_trigger})`) : null,
      )))))),
    data.sequence_id ? h("div", { class: "card-actions" }, start) : null);
}

function habitCard(data) {
  const habit = data.habit || data;
  const target = habit.target ? ` · ${habit.target.value} ${habit.target.unit}` : "";
  return card("habit", `New habit: ${habit.title || habit.name}`,
    h("p", { class: "muted" }, `${habit.kind || "habit"}${target}`),
    habit.description ? h("p", {}, habit.description) : null);
}

function visualizationCard(data) {
  const figure = h("div", { class: "chart", role: "img",
    "aria-label": `${data.visualization_type || "chart"} of your habit, ${data.time_period || ""}` });
  const title = (data.spec && typeof data.spec.title === "string") ? data.spec.title : "Your chart";
  const box = card("visualization", title, figure);
  import("./chart.js").then(({ drawChart }) => drawChart(figure, data.spec))
    .catch(() => figure.replaceChildren(h("p", { class: "muted" }, "The chart could not be drawn.")));
  return box;
}

function predictionCard(data) {
  return card("prediction", `Will “${data.habit || "this habit"}” stick?`,
    h("p", { class: "big" }, percent(data.probability)),
    h("p", { class: "muted" }, "chance you keep it up, from people and habits like yours"),
    list("What moves it", data.factors),
    data.recommendation ? h("p", {}, h("strong", {}, "Try: "), data.recommendation) : null);
}

function list(label, items) {
  if (!Array.isArray(items) || !items.length) return null;
  return h("div", {}, h("strong", {}, label),
    h("ul", {}, items.map((item) => h("li", {}, String(item)))));
}

// Links only to http(s) addresses: a card's data never becomes a javascript: URL.
function citationsCard(data) {
  return card("citations", "Sources",
    h("ol", { class: "sources" }, (data.sources || []).map((source) => {
      const safe = typeof source.url === "string" && /^https?:\/\//.test(source.url);
      return h("li", {}, h("strong", {}, source.title || "Source"), " ",
        safe
          ? h("a", { href: source.url, target: "_blank", rel: "noopener noreferrer" },
            source.citation || source.url)
          : h("span", {}, source.citation || ""));
    })));
}

function progressCard(data) {
  const habits = data.habits || [];
  return card("progress", `Your progress, ${PERIODS[data.period] || "lately"}`,
    h("p", { class: "big" }, percent(data.average_completion_rate)),
    h("p", { class: "muted" }, "average completion"),
    h("ul", { class: "progress-rows" }, habits.map((row) => h("li", {},
      h("span", { class: "progress-title" }, row.title),
      h("meter", { min: "0", max: "1", value: String(row.completion_rate ?? 0),
        "aria-label": `${row.title}: ${percent(row.completion_rate)}` }),
      h("span", {}, percent(row.completion_rate)),
      h("span", { class: "muted" },
        ` · 🔥 ${row.current_streak} (best ${row.best_streak}) ${plural(row.streak_unit, row.best_streak)}`),
    ))));
}

const PERIODS = { "7d": "last 7 days", "30d": "last 30 days", "90d": "last 90 days", all: "all time" };

function plural(unit, count) {
  return `${unit || "day"}${count === 1 ? "" : "s"}`;
}

function reminderCard(data) {
  const reminder = data.reminder || {};
  const about = data.habit || "your check-in";
  if (data.action === "deleted") {
    return card("reminder", "Reminder stopped",
      h("p", {}, data.deleted ? `No more reminders for ${about}.` : `${about} had no reminder.`));
  }
  const days = (reminder.weekdays || []).length ? ` on ${reminder.weekdays.join(", ")}` : " every day";
  return card("reminder", data.action === "updated" ? "Reminder moved" : "Reminder set",
    h("p", { class: "big" }, `⏰ ${reminder.time || "?"}`),
    h("p", { class: "muted" }, `${about}${days}`),
    reminder.message ? h("p", {}, reminder.message) : null);
}

// A destructive action the assistant proposed (archive a habit, stop reminders). Nothing has
// happened yet: Accept runs it through POST /v1/confirmations/{id}, Cancel drops it. The
// summary is the gateway's text about the user's own object, shown as text only.
const SETTLED = { accepted: "Done ✓", cancelled: "Cancelled", expired: "Expired" };

function confirmationCard(data) {
  const status = h("p", { class: "muted", role: "status" }, "Waiting for your answer.");
  const accept = h("button", { type: "button", class: "primary" }, "Accept");
  const cancel = h("button", { type: "button" }, "Cancel");
  const settle = (state) => {
    accept.disabled = cancel.disabled = true;
    status.textContent = SETTLED[state] || state;
  };
  const answer = (method, verb) => async () => {
    accept.disabled = cancel.disabled = true;
    haptic();
    try {
      const path = `/confirmations/${encodeURIComponent(data.confirmation_id)}`;
      const out = await api(method, path);
      settle(out ? out.status : "cancelled");
      if (method === "POST") {
        toast("Done.");
        changed();
      }
    } catch (error) {
      if (error.status === 410) settle("expired");
      else {
        accept.disabled = cancel.disabled = false;
        toast(`Could not ${verb}: ${error.message}`);
      }
    }
  };
  accept.addEventListener("click", answer("POST", "accept"));
  cancel.addEventListener("click", answer("DELETE", "cancel"));
  // A card from the history may already be answered.
  api("GET", `/confirmations/${encodeURIComponent(data.confirmation_id)}`)
    .then((out) => { if (out.status !== "pending") settle(out.status); })
    .catch(() => {});
  return card("confirmation", "Please confirm",
    h("p", {}, data.summary || "The assistant proposed a change."),
    status,
    h("div", { class: "card-actions" }, accept, cancel));
}

function integrationCard(data) {
  return card("integration_data", `Your ${String(data.data_type || "data").replaceAll("_", " ")}`,
    fields(data.summary || {}, []),
    data.unit ? h("p", { class: "muted" }, `in ${data.unit}`) : null);
}

export function insightsCard(data) {
  const items = [...(data.insights || []), ...(data.suggestions || [])];
  return card("insights", "Your insights",
    items.length
      ? h("ul", {}, items.map((item) => h("li", {}, item.message)))
      : h("p", { class: "muted" }, "No insights yet: keep logging and they will appear here."));
}

// The scalar fields of a card as a definition list.
function fields(data, skip) {
  const rows = Object.entries(data).filter(([key, value]) =>
    !skip.includes(key) && (typeof value !== "object" || value === null));
  if (!rows.length) return null;
  return h("dl", { class: "fields" }, rows.map(([key, value]) => [
    h("dt", {}, key.replaceAll("_", " ")),
    h("dd", {}, typeof value === "number" && value > 0 && value < 1 ? percent(value) : value ?? "–"),
  ]));
}

const RENDERERS = {
  habit_sequence: sequenceCard,
  habit: habitCard,
  habit_created: habitCard,
  visualization: visualizationCard,
  prediction: predictionCard,
  citations: citationsCard,
  progress: progressCard,
  reminder: reminderCard,
  confirmation: confirmationCard,
  integration_data: integrationCard,
  insights: insightsCard,
};

export function renderCard(data) {
  const render = RENDERERS[data.type];
  if (render) return render(data);
  return card(data.type || "card", data.title || String(data.type || "Card").replaceAll("_", " "),
    data.message ? h("p", {}, data.message) : null, fields(data, ["type", "title", "message"]));
}
