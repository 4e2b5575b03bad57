// Small behaviours without inline script (the Content-Security-Policy forbids it).
// The laptop's top-bar menus (<details class="menu">): one open at a time, closed by a tap elsewhere or Escape.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.menu[open]").forEach(function (menu) {
    if (!menu.contains(event.target)) menu.open = false;
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape") document.querySelectorAll("details.menu[open]").forEach(function (menu) { menu.open = false; });
});
// A data-confirm question on the form, or on the button pressed (a form with several buttons).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.getAttribute("data-confirm")) || (form.getAttribute && form.getAttribute("data-confirm"));
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Quantity steppers: the − and + buttons beside a number box. The + stops at what is free: the
// box's data-max, or the data-free of the element that says what is free for it (updated as the
// dates change), unless the checkbox named by data-max-unless is ticked (backorder the rest).
// It never lowers a number typed above that: the page says what is free beside it.
function stepperCap(input) {
  var unless = input.getAttribute("data-max-unless");
  var box = unless && input.form && input.form.elements[unless];
  if (box && box.checked) return null;
  var source = input.id && document.querySelector('[data-free-for="' + input.id + '"]');
  var cap = source ? source.getAttribute("data-free") : input.getAttribute("data-max");
  return cap === null || cap === "" ? null : parseInt(cap, 10);
}

document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-step]");
  if (!button) return;
  var input = button.parentElement.querySelector("input");
  var value = parseInt(input.value, 10) || 0;
  var step = parseInt(button.getAttribute("data-step"), 10);
  var next = Math.max(0, value + step);
  var cap = stepperCap(input);
  if (step > 0 && cap !== null && next > cap) next = Math.max(value, cap);
  if (next === value && String(input.value) === String(value)) return;
  input.value = next;
  input.dispatchEvent(new Event("change", { bubbles: true }));
});

// A box asking for more than is free says so at once (the element data-over-for="<box id>").
document.addEventListener("input", function (event) {
  var input = event.target;
  if (!input.id) return;
  var note = document.querySelector('[data-over-for="' + input.id + '"]');
  if (!note) return;
  var cap = stepperCap(input);
  note.hidden = !(cap !== null && (cap === 0 || (parseInt(input.value, 10) || 0) > cap));
});

// A form marked data-autosave (the rep's request) is saved when the page is left, so what was
// typed last is kept even if it never fired a change. Not after it was submitted: the submit
// saves everything itself, and a late copy must not bring a sent request back.
document.addEventListener("submit", function (event) {
  if (!event.defaultPrevented && event.target.hasAttribute && event.target.hasAttribute("data-autosave")) {
    event.target.setAttribute("data-submitted", "1");
  }
});
// Typing (input) and the steppers, choices and dates (change) all make the page unsaved.
["input", "change"].forEach(function (kind) {
  document.addEventListener(kind, function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-autosave")) form.setAttribute("data-dirty", "1");
  });
});
// Saved only if the save itself answered: a login page (the session ended; the request was
// redirected), an error or no answer at all leaves the page marked unsaved, and says so.
document.addEventListener("htmx:afterRequest", function (event) {
  var form = event.detail && event.detail.elt;
  if (!form || !form.hasAttribute || !form.hasAttribute("data-autosave")) return;
  var xhr = event.detail.xhr;
  var target = new URL(form.getAttribute("data-autosave"), window.location.href).pathname;
  var answered = xhr && xhr.responseURL && new URL(xhr.responseURL).pathname === target;
  if (event.detail.successful && answered) {
    form.removeAttribute("data-dirty");
    return;
  }
  var state = document.getElementById("draft-state");
  if (state) {
    state.className = "flash flash-error";
    state.setAttribute("role", "alert");
    state.textContent = "Not saved: the app did not answer, or you were logged out. " +
      "What is on this page is not kept until it is saved; log in again in another tab, then change any box here.";
  }
});
window.addEventListener("pagehide", function () {
  var forms = document.querySelectorAll("form[data-autosave][data-dirty]:not([data-submitted])");
  for (var i = 0; i < forms.length; i++) {
    if (navigator.sendBeacon) navigator.sendBeacon(forms[i].getAttribute("data-autosave"), new FormData(forms[i]));
  }
});

// A code box marked data-submit-on-scan opens what was scanned at once: the scanner fills the
// box and fires a (synthetic, untrusted) change event; typing still needs the button.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!event.isTrusted && input.hasAttribute && input.hasAttribute("data-submit-on-scan") && input.value) {
    input.form.requestSubmit ? input.form.requestSubmit() : input.form.submit();
  }
});

// A signed number box's −/+ button (iPhone numeric keypads have no minus key): flips the sign of
// what is typed, or starts a negative number in an empty box, and gives the box back its focus.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-sign-toggle]");
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-sign-toggle"));
  if (!input) return;
  var value = input.value.trim().replace(/^[\u2212\u2013]/, "-");
  if (value.charAt(0) === "-") value = value.slice(1);
  else value = "-" + value.replace(/^\+/, "");
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.focus();
});

// Share a file: the Share button asks the server for a link (a POST with the form's CSRF token),
// then opens the phone's share sheet (Web Share API) or, where there is none, copies the link
// and shows it. Without this script the form posts and the link's page shows it to copy.
function showSharedLink(box, url, words) {
  if (!box) return;
  box.hidden = false;
  box.textContent = "";
  var link = document.createElement("a");
  link.href = url;
  link.textContent = url;
  link.className = "shared-url";
  box.append(words + " ", link);
}
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains("share-form") || !window.fetch) return;
  event.preventDefault();
  var card = form.closest(".file-card");
  var box = card && card.querySelector(".share-result");
  var title = form.getAttribute("data-share-title") || "";
  fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                      headers: {"Accept": "application/json"}})
    .then(function (response) {
      if (!response.ok) throw new Error("The link could not be made (" + response.status + "). Try again.");
      return response.json();
    })
    .then(function (answer) {
      if (navigator.share) {
        return navigator.share({title: title, url: answer.url})
          .then(function () { showSharedLink(box, answer.url, "Shared:"); })
          .catch(function (error) {
            if (error && error.name === "AbortError") { showSharedLink(box, answer.url, "Not sent. The link:"); return; }
            return copyLink(answer.url, box, answer.days);
          });
      }
      return copyLink(answer.url, box, answer.days);
    })
    .catch(function (error) { if (box) { box.hidden = false; box.textContent = error.message; } });
});
function copyLink(url, box, days) {
  // How long the link lasts is the server's SHARE_LINK_DAYS, as its answer says.
  var lasts = days ? "valid " + days + " day" + (days === 1 ? "" : "s") + " unless ended" : "until ended or expired";
  var done = function () { showSharedLink(box, url, "Link copied (" + lasts + "):"); };
  var shown = function () { showSharedLink(box, url, "Copy this link:"); };
  if (navigator.clipboard && navigator.clipboard.writeText) return navigator.clipboard.writeText(url).then(done, shown);
  shown();
}
// The share link's page: Share… where the phone has a share sheet, Copy link everywhere.
document.querySelectorAll(".share-actions").forEach(function (actions) {
  var url = actions.getAttribute("data-share-url"), title = actions.getAttribute("data-share-title");
  var result = document.querySelector(".copy-result");
  var shareNow = actions.querySelector(".share-now");
  if (navigator.share && shareNow) {
    shareNow.hidden = false;
    shareNow.addEventListener("click", function () { navigator.share({title: title, url: url}).catch(function () {}); });
  }
  var copy = actions.querySelector(".copy-link");
  if (copy) copy.addEventListener("click", function () {
    var field = document.getElementById("share-url");
    var say = function (words) { if (result) result.textContent = words; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(function () { say("Copied."); }, function () { field.select(); say("Select the link above and copy it."); });
    } else { field.select(); say("Select the link above and copy it."); }
  });
});
