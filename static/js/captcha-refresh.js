// Replaces the captcha image in place so that what was typed stays in the form.
// Without JavaScript the link reloads the page instead.
document.addEventListener("click", function (event) {
  var link = event.target.closest(".captcha-refresh");
  if (!link) { return; }
  event.preventDefault();
  fetch(link.dataset.refreshUrl, { headers: { "X-Requested-With": "XMLHttpRequest" } })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      var field = link.closest(".captcha");
      field.querySelector("img.captcha").src = data.image_url;
      field.querySelector("input[type=hidden]").value = data.key;
      var answer = field.querySelector("input[type=text]");
      answer.value = "";
      answer.focus();
    });
});
