// Markdown from the model, rendered safely. Raw HTML in the model's text is shown as text (the
// renderer escapes it), and DOMPurify cleans what marked produced before it reaches the page,
// as a DOM fragment rather than an HTML string.
import { Marked } from "../vendor/marked/marked.esm.js";
import DOMPurify from "../vendor/dompurify/purify.es.mjs";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const ALLOWED = {
  ALLOWED_TAGS: [
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td",
  ],
  ALLOWED_ATTR: ["href", "title", "target", "rel"],
  RETURN_DOM_FRAGMENT: true,
};

// Replaces the children of `element` with `markdown` rendered.
export function renderMarkdown(element, markdown) {
  const fragment = DOMPurify.sanitize(marked.parse(markdown), ALLOWED);
  element.replaceChildren(fragment);
}
