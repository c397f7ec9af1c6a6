// GET / : the page a customer is sent to. It says what to do and shows the exact command for
// this relay, with a copy button. Self-contained (no external asset, no third-party script);
// the one inline script and style are allowed by a per-response nonce in the CSP.

export interface PageOptions {
  /** The relay URL as the customer must type it (wss://host[:port]). */
  relayUrl: string;
  brandName?: string;
  brandNote?: string;
  nonce: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function shareCommand(relayUrl: string): string {
  return `npx -y rso share --relay ${relayUrl}`;
}

export function contentSecurityPolicy(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

export function renderPage(o: PageOptions): string {
  const brand = o.brandName ? escapeHtml(o.brandName) : '';
  const title = brand ? `${brand} remote support` : 'Remote support';
  const command = escapeHtml(shareCommand(o.relayUrl));
  const note = o.brandNote ? `<p class="note">${escapeHtml(o.brandNote)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style nonce="${o.nonce}">
body{font:1.05rem/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem}
pre{margin:0;padding:.75rem;background:#f2f2f2;border:1px solid #767676;border-radius:4px;white-space:pre-wrap;word-break:break-all}
code{font:1rem/1.4 ui-monospace,monospace}
button{font:inherit;margin-top:.5rem;padding:.4rem 1rem;border:2px solid #1b1b1b;border-radius:4px;background:#fff;color:#1b1b1b;cursor:pointer}
button:focus-visible{outline:3px solid #005fcc;outline-offset:2px}
.note{padding:.5rem .75rem;border-left:4px solid #005fcc;background:#eef4fb}
@media (prefers-color-scheme: dark){body{background:#121212;color:#eee}pre{background:#222;border-color:#999}button{background:#121212;color:#eee;border-color:#eee}.note{background:#10243a}}
</style>
</head>
<body>
<main>
<h1>${title}</h1>
${note}
<p>You are on the phone with a support engineer who will look at your screen. Nothing is shown until you choose what to share, and you can stop at any time.</p>
<ol>
<li>Open a terminal on the computer you need help with.</li>
<li>Run this command (it needs Node.js):
<pre id="command"><code>${command}</code></pre>
<button type="button" id="copy" aria-describedby="command">Copy command</button>
<span id="status" role="status" aria-live="polite"></span>
</li>
<li>Read the session number it shows to the engineer, or type the number the engineer reads to you.</li>
</ol>
</main>
<script nonce="${o.nonce}">
(function () {
  var button = document.getElementById('copy');
  var status = document.getElementById('status');
  var text = document.getElementById('command').textContent;
  button.addEventListener('click', function () {
    function done(ok) { status.textContent = ok ? ' Copied.' : ' Select the command and copy it.'; }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      done(false);
    }
  });
})();
</script>
</body>
</html>
`;
}
