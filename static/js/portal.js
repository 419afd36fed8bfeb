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

  // "Imprimir" on the ticket page: the browser's print dialog (portal.css has the print styles).
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrorSummary);
  } else {
    focusErrorSummary();
  }
})();
