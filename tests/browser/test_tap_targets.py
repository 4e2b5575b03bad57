"""Tap targets on phone pages: everything tappable is at least 44 x 44 px at 360 px wide.

Each role logs in at a 360 x 740 viewport and opens its main phone pages; on each, every visible
link, button, input, select, textarea, disclosure row (summary) and radio/checkbox label is
measured with its bounding box. The test fails with the list of offenders: page, element, size.

The rule, and its exceptions:
- a radio button or checkbox is tapped through its label, so the label is measured (its box must
  be 44 x 44 px or more), not the small circle or square itself;
- a link inside running text (its parent also holds text of its own, as in "see the *Reorders*
  page") may be narrower than 44 px, as WCAG 2.5.8 allows; it must still be 44 px tall (app.css
  pads such links vertically, which moves no text);
- hidden form fields and elements that take no space are not measured.
"""
import io

import pytest
from playwright.sync_api import expect

from inventory.catalog import services as catalog
from inventory.extensions import db
from inventory.files import services as files
from inventory.requests import drafts
from tests.browser.conftest import TIMEOUT_MS, log_in
from tests.files_helpers import pdf_bytes
from tests.today_data import PASSWORD, build

expect.set_options(timeout=TIMEOUT_MS)
MIN = 44
FILES_SKU = "BRO-ATLAS"  # a print item of today_data's, given files by `day`
# What is tappable, and how each is measured (see the module's docstring).
_MEASURE = """(min) => {
  const seen = new Set(), out = [];
  const visible = (el) => {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
  };
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.getAttribute('name') || '').trim();
    return el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
      + (text ? ' "' + text.replace(/\\s+/g, ' ').slice(0, 40) + '"' : '');
  };
  const inRunningText = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    for (const node of el.parentElement.childNodes) {
      if (node.nodeType === Node.TEXT_NODE && node.textContent.trim()) return true;
    }
    return false;
  };
  const targets = [];
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary, label')) {
    if (el.closest('[hidden]') || (el.tagName === 'INPUT' && el.type === 'hidden')) continue;
    if (el.tagName === 'INPUT' && (el.type === 'radio' || el.type === 'checkbox')) {
      const label = el.closest('label') || (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]'));
      if (label) { targets.push(label); continue; }
    }
    if (el.tagName === 'LABEL') continue;  // only as a radio's or checkbox's label (above)
    targets.push(el);
  }
  for (const el of targets) {
    if (seen.has(el) || !visible(el)) continue;
    seen.add(el);
    const box = el.getBoundingClientRect();
    const wide = inRunningText(el) || box.width >= min - 0.5, tall = box.height >= min - 0.5;
    if (!wide || !tall) out.push(name(el) + ' ' + Math.round(box.width) + 'x' + Math.round(box.height));
  }
  return out;
}"""


@pytest.fixture
def day(live_server):
    with live_server.app.app_context():
        made = build(db.session)
        from sqlalchemy import select

        from inventory.auth.models import User
        rep = db.session.scalar(select(User).where(User.email == "rep@example.com"))
        drafts.save(db.session, rep, quantities={"POLO-NAVY-L": 2, "BANNER-1": 1})  # My request with lines
        # The brochure's files: the item page shows their cards (preview, Download, Share).
        manager = db.session.scalar(select(User).where(User.email == "manager@example.com"))
        brochure = catalog.get_item(db.session, FILES_SKU)
        for kind in ("shareable", "master"):
            files.upload(db.session, brochure, manager, kind=kind, stream=io.BytesIO(pdf_bytes()),
                         filename=f"atlas-{kind}.pdf", title=f"Atlas brochure ({kind})")
        db.session.remove()
    return made


def pages(day):
    shared = ["/today", "/catalog", f"/catalog/p/{day['product']}", f"/i/{day['sku']}", f"/b/{day['bin']}",
              "/events", f"/events/{day['event']}", "/profile", f"/i/{FILES_SKU}", f"/i/{FILES_SKU}/files"]
    return {
        "rep": shared + ["/request", "/requests/mine", f"/requests/{day['rush']}"],
        "staff": shared + ["/requests/picking", f"/requests/{day['to_pick']}/pick", f"/requests/{day['to_pick']}",
                           f"/requests/{day['loan']}/check-in", f"/purchase-orders/{day['order']}",
                           "/stock/count/A-01-1"],
        "manager": shared + ["/requests", f"/requests/{day['rush']}", "/reorders", f"/requests/{day['loan']}"],
    }


@pytest.mark.parametrize("role", ["rep", "staff", "manager"])
def test_everything_tappable_is_at_least_44_px_on_a_360_px_phone(live_server, day, small_phone, role):
    log_in(small_phone, live_server.url, f"{role}@example.com", PASSWORD)
    offenders = []
    for url in pages(day)[role]:
        response = small_phone.goto(live_server.url + url)
        assert response.status == 200, f"{url}: {response.status}"
        small_phone.wait_for_load_state("load")
        for details in small_phone.locator("main details").all():  # what a tap on a disclosure row shows
            details.evaluate("el => el.open = true")
        offenders += [f"{url}: {what}" for what in small_phone.evaluate(_MEASURE, MIN)]
    assert offenders == [], f"{len(offenders)} tap targets under {MIN} x {MIN} px:\n" + "\n".join(offenders)
