import { escapeHtml, html } from 'src/common/html/html';

describe('html templates', () => {
  it('escape every interpolated value', () => {
    const evil = `"><script>alert('x')</script>&\``;
    expect(html`<input value="${evil}" />`.value).toBe(
      '<input value="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;" />',
    );
    expect(escapeHtml('<b>')).toBe('&lt;b&gt;');
  });

  it('nest fragments without escaping them twice, and drop empty values', () => {
    const inner = html`<b>${'a&b'}</b>`;
    expect(html`<p>${inner}${undefined}${false}${null}${[html`<i>1</i>`, '<2>']}</p>`.value).toBe(
      '<p><b>a&amp;b</b><i>1</i>&lt;2&gt;</p>',
    );
  });
});
