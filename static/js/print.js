// "Imprimir" buttons: the browser's print dialog (a script file, as the CSP allows no inline handlers).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });
})();
