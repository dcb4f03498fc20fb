// An automated accessibility check of the page on screen, run through Selenium: every input has
// a label, every control a name, every image a text alternative, headings in order, text in
// sufficient contrast. Returns the problems it found (an empty list when there are none).
const problems = [];
const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';

for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  const labelled = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
  if (!labelled) problems.push('input without a label: ' + (el.id || el.name));
}
for (const el of document.querySelectorAll('button, a[href], [role="button"]')) {
  const name = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('title') || '').trim();
  if (!name) problems.push('control without a name: ' + el.outerHTML.slice(0, 80));
}
for (const img of document.querySelectorAll('img')) {
  if (!img.hasAttribute('alt')) problems.push('image without alt: ' + img.getAttribute('src'));
}
for (const el of document.querySelectorAll('[role="img"]')) {
  if (!el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) problems.push('role=img without a label');
}
for (const svg of document.querySelectorAll('svg')) {
  if (svg.getAttribute('aria-hidden') !== 'true' && !svg.getAttribute('aria-label')) problems.push('svg without a text alternative');
}
const levels = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map((h) => Number(h.tagName[1]));
if (levels[0] !== 1) problems.push('the first heading is not an h1');
if (levels.filter((level) => level === 1).length !== 1) problems.push('not exactly one h1');
for (let i = 1; i < levels.length; i++) {
  if (levels[i] > levels[i - 1] + 1) problems.push('heading levels skip from h' + levels[i - 1] + ' to h' + levels[i]);
}
const ids = new Set();
for (const el of document.querySelectorAll('[id]')) {
  if (ids.has(el.id)) problems.push('duplicate id: ' + el.id);
  ids.add(el.id);
}
for (const el of document.querySelectorAll('[aria-describedby], [aria-labelledby]')) {
  const refs = ((el.getAttribute('aria-describedby') || '') + ' ' + (el.getAttribute('aria-labelledby') || '')).trim().split(/\s+/);
  for (const id of refs) if (id && !document.getElementById(id)) problems.push('reference to a missing id: ' + id);
}
if (!document.documentElement.lang) problems.push('the page has no lang');
if (!document.title) problems.push('the page has no title');

// Contrast (WCAG 2 AA): 4.5:1 for text, 3:1 for large text, against the nearest opaque background.
function rgb(text) {
  const parts = text.match(/[\d.]+/g) || [];
  return { r: +parts[0], g: +parts[1], b: +parts[2], a: parts.length > 3 ? +parts[3] : 1 };
}
function luminance(c) {
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}
function background(el) {
  for (let node = el; node; node = node.parentElement) {
    const color = rgb(getComputedStyle(node).backgroundColor);
    if (color.a >= 0.99) return color;
  }
  return rgb(getComputedStyle(document.documentElement).backgroundColor || 'rgb(255,255,255)');
}
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const checked = new Set();
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const el = node.parentElement;
  if (!el || checked.has(el) || !node.textContent.trim() || !shown(el)) continue;
  if (el.closest('.visually-hidden, svg, [aria-hidden="true"]')) continue;
  checked.add(el);
  const style = getComputedStyle(el);
  const fg = rgb(style.color);
  const bg = background(el);
  const lighter = Math.max(luminance(fg), luminance(bg));
  const darker = Math.min(luminance(fg), luminance(bg));
  const ratio = (lighter + 0.05) / (darker + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5)) problems.push('contrast ' + ratio.toFixed(2) + ' for "' + node.textContent.trim().slice(0, 40) + '"');
}
return problems;
