// Replaces the captcha image in place so that what was typed stays in the form.
// Without JavaScript (or if the request fails) the link reloads the page instead.
document.addEventListener("click", function (event) {
  "use strict";
  var link = event.target.closest(".captcha-refresh");
  if (!link) { return; }
  event.preventDefault();
  fetch(link.dataset.refreshUrl, { headers: { "X-Requested-With": "XMLHttpRequest" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    })
    .then(function (data) {
      var field = link.closest(".captcha");
      field.querySelector("img.captcha").src = data.image_url;
      field.querySelector("input[type=hidden]").value = data.key;
      var answer = field.querySelector("input[type=text]");
      answer.value = "";
      answer.focus();
      var status = document.getElementById("captcha-status");
      if (status) { status.textContent = status.dataset.message; }
    })
    .catch(function () { window.location.href = link.href; });
});
