// Renders Markdown from stdin the way readers of the workbook are likely to:
// marked with its defaults (GFM, auto-links, raw HTML passed through),
// markdown-it with `linkify: true`, and markdown-it with `linkify` and
// `html: true` (the most permissive setting a site would use). Prints one
// JSON line: { marked, markdownIt, markdownItHtml }.
import { marked } from "marked";
import MarkdownIt from "markdown-it";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const source = Buffer.concat(chunks).toString("utf8");

const markdownIt = new MarkdownIt({ linkify: true });
const markdownItHtml = new MarkdownIt({ html: true, linkify: true });
process.stdout.write(
  JSON.stringify({
    marked: marked.parse(source),
    markdownIt: markdownIt.render(source),
    markdownItHtml: markdownItHtml.render(source),
  }) + "\n",
);
