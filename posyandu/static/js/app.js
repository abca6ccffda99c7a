/* Our few lines beside htmx: a banner when a request fails, with a retry. No inline script (CSP). */
(function () {
  var last = null;
  function banner(show, text) {
    var el = document.getElementById("net-error");
    if (!el) return;
    if (text) document.getElementById("net-error-text").textContent = text;
    el.hidden = !show;
  }
  document.addEventListener("htmx:beforeRequest", function () { banner(false); });
  document.addEventListener("htmx:sendError", function (e) { last = e.detail.elt; banner(true); });
  document.addEventListener("htmx:timeout", function (e) { last = e.detail.elt; banner(true); });
  document.addEventListener("htmx:responseError", function (e) {
    last = e.detail.elt;
    var p = e.detail.xhr && e.detail.xhr.responseText && new DOMParser()
      .parseFromString(e.detail.xhr.responseText, "text/html").querySelector(".error-page p");
    banner(true, p ? p.textContent : null);
  });
  document.addEventListener("click", function (e) {
    if (e.target && e.target.id === "net-error-retry") {
      banner(false);
      if (last && document.body.contains(last)) htmx.trigger(last, last.tagName === "FORM" ? "submit" : "click");
      else location.reload();
    }
  });
})();
