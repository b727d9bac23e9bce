// The checkout works without this script. With it, a page that waits for
// the bank (a payment processing, an account being confirmed) asks
// /pay/{id}/status how things stand, as often as its Retry-After says, and
// reloads itself once something changed.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !main.getAttribute("data-poll") || !window.fetch) {
    return;
  }
  var url = main.getAttribute("data-poll");
  var shown = main.getAttribute("data-status");
  var verifying = main.getAttribute("data-verifying") === "true";
  var live = document.getElementById("live");

  function later(seconds) {
    var s = parseInt(seconds, 10);
    if (!(s >= 1)) {
      s = 5;
    }
    window.setTimeout(check, Math.min(s, 120) * 1000);
  }

  function check() {
    window.fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (resp) {
        var wait = resp.headers.get("Retry-After");
        if (!resp.ok) {
          later(wait || 10);
          return;
        }
        return resp.json().then(function (s) {
          if (s.status !== shown || s.verifying !== verifying) {
            if (live && s.message) {
              live.textContent = s.message;
            }
            window.location.reload();
            return;
          }
          if (s.poll) {
            later(wait);
          }
        });
      })
      .catch(function () {
        later(10);
      });
  }

  later(main.getAttribute("data-wait"));
})();
