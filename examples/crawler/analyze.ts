/**
 * The crawler's CPU step, run in the ThreadPoolExecutor's worker threads (never on the event loop):
 * decode a page in its declared charset, extract and resolve its links, and fingerprint its text.
 * The main thread names it through `workerModule<typeof import("./analyze.js")>(…)`, so arguments
 * and results are typed.
 *
 * The page comes from a server nobody vouches for, so the work is **linear in the page's size**,
 * whatever its markup: one forward scan over the text, every search starting where the last one
 * ended, and no regular expression that can backtrack over the page (the earlier regex version took
 * 10 s on 200 KB of `<a `, and hours on 10 MB). The scanner counts its steps (characters examined)
 * so that a test can check that bound without a clock.
 * @module
 */
import { createHash } from "node:crypto";

/** What the worker tells the crawler about a page. */
export interface Analysis {
  /** Absolute http(s) URLs of the page's `<a href>` / `<area href>` links, fragments removed, each once. */
  links: string[];
  /** The `<title>`, whitespace collapsed. */
  title: string;
  /** Words of visible text. */
  words: number;
  /** SHA-256 of the visible text (whitespace-normalized): equal for the same text in other markup. */
  textHash: string;
  /** SHA-256 of the raw bytes. */
  bodyHash: string;
  /** The character encoding the page was decoded with (WHATWG name: `utf-8`, `windows-1252`…). */
  charset: string;
}

/** Counts the scanner's steps: characters examined, by the scan itself and by every search it makes. */
export interface StepCounter {
  steps: number;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };
// Bounded repetitions: each `&` costs at most a few dozen steps, however the text goes on.
const ENTITY = /&(#[xX][0-9a-fA-F]{1,8}|#\d{1,8}|[a-zA-Z]{1,32});/g;

function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(ENTITY, (m, e: string) => {
    if (e[0] === "#") {
      const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** The encoding a label names (WHATWG labels, as TextDecoder knows them), or null if unknown here. */
function encodingOf(label: string): string | null {
  try {
    return new TextDecoder(label.trim()).encoding;
  } catch {
    return null;
  }
}

const HEADER_CHARSET = /;\s*charset\s*=\s*"?([^";\s]{1,40})/i;
const META_CHARSET = /<meta\b[^>]{0,512}?\bcharset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]{1,40})/i;

/**
 * The page's encoding, as a browser picks it (in short): a byte-order mark; else the `charset` of the
 * Content-Type header; else a `<meta charset>` (or `http-equiv` content type) in the first 1,024
 * bytes; else UTF-8. A label this Node does not know counts as none.
 */
export function sniffCharset(bytes: Uint8Array, contentType = ""): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8";
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  const fromHeader = HEADER_CHARSET.exec(contentType);
  const header = fromHeader === null ? null : encodingOf(fromHeader[1]);
  if (header !== null) return header;
  // The prescan reads ASCII only, so any single-byte decoding of the first 1,024 bytes will do.
  const head = new TextDecoder("windows-1252").decode(bytes.subarray(0, 1024));
  const meta = META_CHARSET.exec(head);
  const declared = meta === null ? null : encodingOf(meta[1]);
  // A page cannot declare UTF-16 from inside itself (its ASCII would not read): the spec says UTF-8.
  if (declared !== null) return declared.startsWith("utf-16") ? "utf-8" : declared;
  return "utf-8";
}

/** windows-1252's characters for the bytes 0x80–0x9F (where it differs from ISO-8859-1). */
const CP1252_C1 = "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

/**
 * `bytes` decoded as `charset`. windows-1252 (what "latin1" and "iso-8859-1" mean on the web) is
 * decoded here: Node 20's TextDecoder decodes it as ISO-8859-1, turning “ ” — € into control characters.
 */
export function decode(bytes: Uint8Array, charset: string): string {
  if (charset !== "windows-1252") return new TextDecoder(charset).decode(bytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString("latin1")
    .replace(/[\u0080-\u009f]/g, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]);
}

/** What the scan of a page finds (before hashing). */
export interface Scan {
  /** The `href` of every `<a>` and `<area>`, raw (entities decoded), in order. */
  hrefs: string[];
  /** The first `<base href>`, raw, or null. */
  base: string | null;
  /** The first `<title>`'s text, raw, or null. */
  title: string | null;
  /** The visible text, tags replaced by spaces (comments, scripts and styles dropped). */
  text: string;
}

/** Elements whose content is raw text up to their end tag (no tags inside), with that end tag's pattern. */
const RAW_TEXT = new Map(["script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes"].map((name) => [name, new RegExp(`</${name}[\\s/>]`, "gi")]));

/** Whether `c` (a char code) may start a tag name. */
function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** HTML's whitespace (space, tab, LF, FF, CR). */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

/**
 * Scans `html` once, left to right: every step moves forward, every search starts where the scan
 * is and its result moves the scan past what it searched, so the work is O(length) whatever the
 * markup (unclosed comments, tags, quotes or scripts run to the end of the page, as in a browser).
 */
export function scanHtml(html: string, counter: StepCounter = { steps: 0 }): Scan {
  const n = html.length;
  const text: string[] = [];
  const hrefs: string[] = [];
  let base: string | null = null;
  let title: string | null = null;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf("<", i);
    const stop = lt < 0 ? n : lt;
    counter.steps += stop - i + 1;
    if (stop > i) text.push(html.slice(i, stop));
    if (lt < 0) break;
    i = lt;
    const c = html.charCodeAt(i + 1);
    if (c === 33 /* ! */ && html.startsWith("!--", i + 1)) {
      // A comment, up to -->, or to the end of the page if it never closes.
      const close = html.indexOf("-->", i + 4);
      const next = close < 0 ? n : close + 3;
      counter.steps += next - i;
      i = next;
      text.push(" ");
      continue;
    }
    if (c === 33 /* ! */ || c === 63 /* ? */ || (c === 47 /* / */ && !isLetter(html.charCodeAt(i + 2)))) {
      // <!DOCTYPE …>, <?…>, </…> with no name: skipped up to the next >.
      const close = html.indexOf(">", i + 2);
      const next = close < 0 ? n : close + 1;
      counter.steps += next - i;
      i = next;
      text.push(" ");
      continue;
    }
    const end = c === 47;
    if (!end && !isLetter(c)) {
      // "a < b": text.
      text.push("<");
      i++;
      continue;
    }
    // A start or end tag: its name, then its attributes (quotes respected), up to > (or the end).
    let j = end ? i + 2 : i + 1;
    const nameStart = j;
    while (j < n) {
      const d = html.charCodeAt(j);
      if (isSpace(d) || d === 47 || d === 62) break;
      j++;
    }
    const name = html.slice(nameStart, j).toLowerCase();
    let href: string | null = null;
    while (j < n) {
      let d = html.charCodeAt(j);
      if (d === 62 /* > */) break;
      if (isSpace(d) || d === 47) {
        j++;
        continue;
      }
      const attrStart = j;
      while (j < n) {
        d = html.charCodeAt(j);
        if (isSpace(d) || d === 47 || d === 62 || d === 61) break;
        j++;
      }
      const attr = html.slice(attrStart, j);
      while (j < n && isSpace(html.charCodeAt(j))) j++;
      if (html.charCodeAt(j) !== 61 /* = */) {
        if (j === attrStart) j++; // a lone "=" or the like: step over it
        continue;
      }
      j++;
      while (j < n && isSpace(html.charCodeAt(j))) j++;
      let value: string;
      const q = html.charCodeAt(j);
      if (q === 34 || q === 39) {
        const close = html.indexOf(q === 34 ? '"' : "'", j + 1);
        const valueEnd = close < 0 ? n : close;
        value = html.slice(j + 1, valueEnd);
        j = close < 0 ? n : close + 1;
      } else {
        const valueStart = j;
        while (j < n) {
          d = html.charCodeAt(j);
          if (isSpace(d) || d === 62) break;
          j++;
        }
        value = html.slice(valueStart, j);
      }
      if (href === null && attr.length === 4 && attr.toLowerCase() === "href") href = value;
    }
    const tagEnd = j < n ? j + 1 : n;
    counter.steps += tagEnd - i;
    i = tagEnd;
    text.push(" ");
    if (end) continue;
    if ((name === "a" || name === "area") && href !== null) hrefs.push(decodeEntities(href.trim()));
    else if (name === "base" && href !== null && base === null) base = decodeEntities(href.trim());
    const closer = RAW_TEXT.get(name);
    if (closer !== undefined && i < n) {
      // Raw text up to the matching end tag (or the end of the page): a literal search, no backtracking.
      closer.lastIndex = i;
      const m = closer.exec(html);
      const close = m === null ? n : m.index;
      counter.steps += close - i;
      if (name === "title" || name === "textarea") {
        const inner = html.slice(i, close);
        if (name === "title" && title === null) title = inner;
        text.push(inner);
      }
      i = close;
    }
  }
  return { hrefs, base, title, text: text.join("") };
}

/**
 * Analyses one HTML page fetched from `url` (`contentType`: the response's Content-Type header, whose
 * `charset` is honoured). `counter` (optional) receives the scan's step count.
 */
export function analyze(body: ArrayBuffer, url: string, contentType = "", counter?: StepCounter): Analysis {
  const bytes = new Uint8Array(body);
  const charset = sniffCharset(bytes, contentType);
  const html = decode(bytes, charset);
  const scan = scanHtml(html, counter);

  let base = url;
  if (scan.base !== null) {
    try {
      base = new URL(scan.base, url).href;
    } catch {
      // an invalid <base> is ignored, as browsers do
    }
  }
  const links = new Set<string>();
  for (const href of scan.hrefs) {
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

  const title = scan.title === null ? "" : decodeEntities(scan.title).replace(/\s+/g, " ").trim();
  const words = decodeEntities(scan.text.toLowerCase())
    .split(/\s+/)
    .filter((w) => w !== "");
  return {
    links: [...links],
    title,
    words: words.length,
    textHash: createHash("sha256").update(words.join(" ")).digest("hex"),
    bodyHash: createHash("sha256").update(bytes).digest("hex"),
    charset,
  };
}
