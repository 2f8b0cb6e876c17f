// Vega-Lite charts, loaded on the first chart card only (the libraries are most of the page's
// weight). `ast: true` makes vega-embed evaluate expressions with its bundled interpreter, so
// the strict CSP needs no 'unsafe-eval'; the canvas renderer and defaultStyle/tooltip off keep
// it from writing inline styles, which the CSP would refuse.
const LIBRARIES = ["vega/vega.min.js", "vega-lite/vega-lite.min.js", "vega-embed/vega-embed.min.js"];
let loading = null;

function script(src) {
  return new Promise((resolve, reject) => {
    const element = document.createElement("script");
    element.src = new URL(`../vendor/${src}`, import.meta.url).href;
    element.onload = resolve;
    element.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(element);
  });
}

function load() {
  // In order: vega-lite and vega-embed find vega (and vega-lite) as globals.
  loading ??= LIBRARIES.reduce((ready, src) => ready.then(() => script(src)), Promise.resolve());
  return loading;
}

export async function drawChart(element, spec) {
  await load();
  // Fitted to the card, axes included: the server's specs are drawn for a wider screen.
  const width = Math.max(200, element.clientWidth - 4);
  const fitted = { ...spec, width, autosize: { type: "fit", contains: "padding" } };
  await window.vegaEmbed(element, fitted, {
    mode: "vega-lite",
    ast: true,
    actions: false,
    renderer: "canvas",
    defaultStyle: false,
    tooltip: false,
  });
  element.dataset.rendered = "true";
}
