// Inserts a canned response, already rendered for this ticket by the server, into
// the reply box at the cursor. Without JavaScript the same button reloads the page
// with the text in the box (?plantilla=<id>).
(function () {
  "use strict";
  function ready() {
    var data = document.getElementById("canned-responses");
    var select = document.getElementById("id_plantilla");
    var button = document.querySelector("[data-insert-canned]");
    var box = document.getElementById("id_reply_message");
    if (!data || !select || !button || !box) {
      return;
    }
    var texts = JSON.parse(data.textContent);
    button.addEventListener("click", function (event) {
      var text = texts[select.value];
      if (typeof text !== "string") {
        return;
      }
      event.preventDefault();
      var start = box.selectionStart || 0;
      var end = box.selectionEnd || 0;
      if (box.value === "") {
        box.value = text;
      } else {
        box.setRangeText(text, start, end, "end");
      }
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.focus();
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
