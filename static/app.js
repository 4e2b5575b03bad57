// Small behaviours without inline script (the Content-Security-Policy forbids it).
// A data-confirm question on the form, or on the button pressed (a form with several buttons).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.getAttribute("data-confirm")) || (form.getAttribute && form.getAttribute("data-confirm"));
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
