// Small behaviours without inline script (the Content-Security-Policy forbids it).
document.addEventListener("submit", function (event) {
  var form = event.target;
  // A button may ask its own question (one form, several buttons: only Release asks).
  var submitter = event.submitter;
  var question = (submitter && submitter.getAttribute("data-confirm")) ||
    (form.getAttribute && form.getAttribute("data-confirm"));
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Quantity steppers: the − and + buttons beside a number box.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-step]");
  if (!button) return;
  var input = button.parentElement.querySelector("input");
  var value = parseInt(input.value, 10) || 0;
  var next = Math.max(0, value + parseInt(button.getAttribute("data-step"), 10));
  var max = input.getAttribute("data-max");
  if (max !== null && next > parseInt(max, 10)) next = parseInt(max, 10);
  input.value = next;
  input.dispatchEvent(new Event("change", { bubbles: true }));
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
