// Keeps the landing page current: the WhatsApp panel and its QR follow the server's
// Server-Sent Events. Without JavaScript, the <noscript> refresh does the same, slower.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource) {
    return;
  }
  var source = new EventSource(live.getAttribute("data-events"));

  source.addEventListener("panel", function (event) {
    var data = JSON.parse(event.data);
    var details = live.querySelector("details.pair");
    var keepOpen = details && details.open && data.state === live.getAttribute("data-state");
    live.innerHTML = data.html;
    live.setAttribute("data-state", data.state);
    if (keepOpen) {
      var again = live.querySelector("details.pair");
      if (again) { again.open = true; }
    }
  });

  source.addEventListener("qr", function (event) {
    var box = document.getElementById("qr");
    if (box) {
      box.innerHTML = JSON.parse(event.data).svg;
    }
  });

  source.addEventListener("reload", function () {
    source.close();
    window.location.reload();
  });
})();
