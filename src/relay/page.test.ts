import t from 'tap';
import { contentSecurityPolicy, escapeHtml, renderPage, shareCommand } from './page.js';

t.test('the page escapes the brand and carries the nonce only on its own script and style', async (t) => {
  const html = renderPage({ relayUrl: 'wss://support.example.com', brandName: '<b>Acme</b> & "Co"', brandNote: "It's <free>", nonce: 'abc123' });
  t.match(html, '<title>&lt;b&gt;Acme&lt;/b&gt; &amp; &quot;Co&quot; remote support</title>');
  t.match(html, 'It&#39;s &lt;free&gt;');
  t.notMatch(html, '<b>Acme');
  t.match(html, '<code>npx -y rso share --relay wss://support.example.com</code>');
  t.equal(html.match(/nonce="abc123"/g)?.length, 2, 'one script, one style');
  t.notMatch(html, /<(script|link|img)[^>]+(src|href)=/, 'no external asset');
  t.match(contentSecurityPolicy('abc123'), "script-src 'nonce-abc123'");
  t.match(contentSecurityPolicy('abc123'), "default-src 'none'");
  t.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;');
  t.equal(shareCommand('wss://r.example'), 'npx -y rso share --relay wss://r.example');
});

t.test('without a brand the page is generic', async (t) => {
  const html = renderPage({ relayUrl: 'ws://127.0.0.1:8443', nonce: 'n' });
  t.match(html, '<title>Remote support</title>');
  t.notMatch(html, 'class="note"');
});
