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
  const chance = data.probability ?? data.success_probability;
  return card("prediction", data.title || "Your chances",
    chance !== undefined ? h("p", { class: "big" }, percent(chance)) : null,
    data.habit ? h("p", { class: "muted" }, data.habit) : null,
    list("Helps", data.top_success_factors), list("Risks", data.top_risk_factors),
    list("Try", data.recommendations));
}

function list(label, items) {
  if (!Array.isArray(items) || !items.length) return null;
  return h("div", {}, h("strong", {}, label),
    h("ul", {}, items.map((item) => h("li", {}, describe(item)))));
}

function describe(item) {
  if (item === null || typeof item !== "object") return String(item);
  return item.message || item.description || item.name || item.title || item.factor
    || JSON.stringify(item);
}

function citationsCard(data) {
  const sources = data.sources || data.citations || [];
  return card("citations", data.title || "Sources",
    h("ol", { class: "sources" }, sources.map((source) => {
      const label = source.title || source.url || describe(source);
      const safe = typeof source.url === "string" && /^https?:\/\//.test(source.url);
      return h("li", {}, safe
        ? h("a", { href: source.url, target: "_blank", rel: "noopener noreferrer" }, label)
        : label);
    })));
}

function progressCard(data) {
  return card("progress", data.title || data.habit || "Your progress",
    fields(data, ["title", "habit", "type"]));
}

function reminderCard(data) {
  const when = data.time || data.remind_at || data.at;
  return card("reminder", data.title || "Reminder",
    when ? h("p", { class: "muted" }, `⏰ ${when}`) : null,
    data.message ? h("p", {}, data.message) : null);
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
  integration_data: integrationCard,
  insights: insightsCard,
};

export function renderCard(data) {
  const render = RENDERERS[data.type];
  if (render) return render(data);
  return card(data.type || "card", data.title || String(data.type || "Card").replaceAll("_", " "),
    data.message ? h("p", {}, data.message) : null, fields(data, ["type", "title", "message"]));
}
