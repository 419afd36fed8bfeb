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
      var audio = field.querySelector(".captcha-audio-link");
      if (audio) { audio.href = audio.dataset.urlTemplate.replace("KEY", data.key); }
      var answer = field.querySelector("input[type=text]");
      answer.value = "";
      answer.focus();
      var status = document.getElementById("captcha-status");
      if (status) { status.textContent = status.dataset.message; }
    })
    .catch(function () { window.location.href = link.href; });
});

// The spoken code plays in the page, so the form and what was typed stay where they are.
// Without JavaScript the link opens the recording (the browser's player); Back returns.
document.addEventListener("click", function (event) {
  "use strict";
  var link = event.target.closest(".captcha-audio-link");
  if (!link) { return; }
  event.preventDefault();
  if (link.player) { link.player.pause(); }
  link.player = new Audio(link.href);
  link.player.play().catch(function () { window.location.href = link.href; });
});
