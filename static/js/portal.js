// Progressive enhancements of the public forms; every page works without them.
(function () {
  "use strict";

  // A form came back with errors: move focus to the summary so that it is read first
  // and keyboard users start from it.
  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  }

  // A link of the summary puts the cursor in its field and shows the field's label
  // above it (a plain #fragment would scroll the label out of sight).
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#']");
    if (!link) { return; }
    var input = document.getElementById(link.getAttribute("href").slice(1));
    if (!input) { return; }
    event.preventDefault();
    var details = input.closest("details");
    if (details) { details.open = true; }
    var field = input.closest(".field") || input;
    field.scrollIntoView();
    input.focus({ preventScroll: true });
  });

  // A text box with a limit (data-maxlength, set by the server instead of maxlength,
  // which would silently cut a paste) shows how many characters are left or too many.
  // Only crossing the limit is announced, not every key pressed.
  function addCounter(box) {
    var limit = parseInt(box.dataset.maxlength, 10);
    var counter = document.createElement("p");
    counter.className = "char-count";
    counter.id = box.id + "_count";
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    box.insertAdjacentElement("afterend", counter);
    counter.insertAdjacentElement("afterend", live);
    var lang = document.documentElement.lang || "es";
    var wasOver = false;
    function update() {
      var n = box.value.length;
      var over = n > limit;
      var template = over ? box.dataset.countOver : box.dataset.countLeft;
      counter.textContent = template.replace("{n}", Math.abs(limit - n).toLocaleString(lang));
      counter.classList.toggle("over", over);
      if (over !== wasOver) {
        live.textContent = over ? counter.textContent : "";
        wasOver = over;
      }
    }
    box.addEventListener("input", update);
    update();
  }

  // Switching language reloads the page: what was typed in its forms is carried over in
  // this tab's sessionStorage and put back once, on the same address. Never files, the
  // captcha or hidden fields. Without JavaScript the switch reloads an empty form (the
  // text box's content stays in the browser's Back history).
  var KEEP = "mesaayuda-keep-typed";

  function pageForms() {
    return Array.prototype.filter.call(document.querySelectorAll("main form"), function (f) {
      return f.method.toLowerCase() === "post";
    });
  }

  function keepTyped() {
    var fields = [];
    pageForms().forEach(function (form, i) {
      Array.prototype.forEach.call(form.elements, function (el) {
        var type = el.type;
        if (!el.name || el.disabled || el.name.indexOf("captcha") === 0) { return; }
        if (["hidden", "file", "password", "submit", "button", "reset"].indexOf(type) !== -1) { return; }
        if (type === "radio" || type === "checkbox") {
          if (el.checked) { fields.push([i, el.name, el.value]); }
        } else if (el.value) {
          fields.push([i, el.name, el.value]);
        }
      });
    });
    try {
      if (fields.length) {
        sessionStorage.setItem(KEEP, JSON.stringify({ path: location.pathname, fields: fields }));
      }
    } catch (e) { /* storage refused (private mode, full): the switch still works */ }
  }

  function restoreTyped() {
    var data;
    try {
      data = JSON.parse(sessionStorage.getItem(KEEP) || "null");
      sessionStorage.removeItem(KEEP);
    } catch (e) { return; }
    if (!data || data.path !== location.pathname) { return; }
    var forms = pageForms();
    data.fields.forEach(function (f) {
      var form = forms[f[0]];
      if (!form) { return; }
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name !== f[1]) { return; }
        if (el.type === "radio" || el.type === "checkbox") {
          if (el.value === f[2]) { el.checked = true; }
        } else {
          el.value = f[2];
          el.dispatchEvent(new Event("input", { bubbles: true }));
        }
      });
    });
  }

  // "Imprimir" on the ticket page: the browser's print dialog (portal.css has the print styles).
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  function start() {
    restoreTyped();
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-maxlength]"), addCounter);
    var switcher = document.querySelector(".language-switch");
    if (switcher) { switcher.addEventListener("submit", keepTyped); }
    focusErrorSummary();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
