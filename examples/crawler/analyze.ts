/**
 * The crawler's CPU step, run in the ThreadPoolExecutor's worker threads (never on the event loop):
 * decode a page, extract and resolve its links, and fingerprint its text. The main thread names it
 * through `workerModule<typeof import("./analyze.js")>(…)`, so arguments and results are typed.
 * @module
 */
import { createHash } from "node:crypto";

/** What the worker tells the crawler about a page. */
export interface Analysis {
  /** Absolute http(s) URLs of the page's `<a href>` links, fragments removed, each once. */
  links: string[];
  /** The `<title>`, whitespace collapsed. */
  title: string;
  /** Words of visible text. */
  words: number;
  /** SHA-256 of the visible text (whitespace-normalized): equal for the same text in other markup. */
  textHash: string;
  /** SHA-256 of the raw bytes. */
  bodyHash: string;
}

const ANCHOR = /<(?:a|area)\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;
const BASE = /<base\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;
const TITLE = /<title\b[^>]*>([\s\S]*?)<\/title>/i;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === "#") {
      const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Analyses one HTML page fetched from `url`. */
export function analyze(body: ArrayBuffer, url: string): Analysis {
  const bytes = new Uint8Array(body);
  // Comments, scripts and styles hold no links and no visible text.
  const html = new TextDecoder("utf-8").decode(bytes).replace(/<!--[\s\S]*?-->|<(script|style)\b[\s\S]*?<\/\1\s*>/gi, " ");

  let base = url;
  const b = BASE.exec(html);
  if (b !== null) {
    try {
      base = new URL(decodeEntities((b[1] ?? b[2] ?? b[3]).trim()), url).href;
    } catch {
      // an invalid <base> is ignored, as browsers do
    }
  }
  const links = new Set<string>();
  for (const m of html.matchAll(ANCHOR)) {
    const href = decodeEntities((m[1] ?? m[2] ?? m[3]).trim());
    if (href === "" || href.startsWith("#")) continue;
    let u: URL;
    try {
      u = new URL(href, base);
    } catch {
      continue;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") continue; // mailto:, javascript:, …
    u.hash = "";
    links.add(u.href);
  }

  const t = TITLE.exec(html);
  const title = t === null ? "" : decodeEntities(t[1]).replace(/\s+/g, " ").trim();
  const text = decodeEntities(html.replace(/<[^>]*>/g, " ").toLowerCase())
    .split(/\s+/)
    .filter((w) => w !== "");
  return {
    links: [...links],
    title,
    words: text.length,
    textHash: createHash("sha256").update(text.join(" ")).digest("hex"),
    bodyHash: createHash("sha256").update(bytes).digest("hex"),
  };
}
