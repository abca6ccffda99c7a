/* Our few lines beside htmx: a loading cue, a banner when a request fails (with a retry) and the same said beside
   the form that did not save, and the focus on an error summary. No inline script (CSP). */
(function () {
  var last = null;
  var busy = 0;
  function banner(show, text) {
    var el = document.getElementById("net-error");
    if (!el) return;
    if (text) document.getElementById("net-error-text").textContent = text;
    el.hidden = !show;
  }
  function quiet(elt) {  // a queue poll is no reason to show the loading bar
    return elt && elt.getAttribute && /^every /.test(elt.getAttribute("hx-trigger") || "");
  }
  function loading(delta) {
    busy = Math.max(0, busy + delta);
    document.documentElement.classList.toggle("busy", busy > 0);
  }
  function formOf(elt) {
    return elt && (elt.tagName === "FORM" ? elt : elt.closest && elt.closest("form"));
  }
  function saveFailed(elt) {  // said where the kader is looking: beside the button she pressed
    var form = formOf(elt);
    if (!form || (form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    var text = document.getElementById("net-error").getAttribute("data-save-failed");
    var p = form.querySelector(".save-failed");
    if (!p) {
      p = document.createElement("p");
      p.className = "save-failed";
      p.setAttribute("role", "alert");
      var actions = form.querySelector(".actions") || form.querySelector("[type=submit]") || form.lastElementChild;
      actions.parentNode.insertBefore(p, actions.nextSibling);
    }
    p.textContent = text;
    p.scrollIntoView({block: "nearest"});
  }
  function failed(e, text) {
    last = e.detail.elt;
    banner(true, text);
    saveFailed(last);
  }
  function focusErrors(root) {
    var box = root && root.querySelector && root.querySelector(".error-summary, form .banner.warn[role=alert]");
    if (!box) return;
    if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "-1");
    box.focus({preventScroll: true});
    box.scrollIntoView({block: "start"});
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    banner(false);
    var form = formOf(e.detail.elt);
    var old = form && form.querySelector(".save-failed");
    if (old) old.remove();
    if (!quiet(e.detail.elt)) { e.detail.elt.__loading = true; loading(1); }
  });
  // A boosted link is gone from the page when its request ends (the body was swapped), so its afterRequest never
  // reaches document: the cue ends on whichever of these arrives.
  ["htmx:afterRequest", "htmx:afterSettle", "htmx:sendError", "htmx:timeout", "htmx:responseError"].forEach(
    function (name) { document.addEventListener(name, function () { busy = 0; loading(0); }); });
  document.addEventListener("htmx:sendError", function (e) { failed(e); });
  document.addEventListener("htmx:timeout", function (e) { failed(e); });
  document.addEventListener("htmx:responseError", function (e) {
    var p = e.detail.xhr && e.detail.xhr.responseText && new DOMParser()
      .parseFromString(e.detail.xhr.responseText, "text/html").querySelector(".error-page p");
    failed(e, p ? p.textContent : null);
  });
  function showCurrentTab() {  // a sideways-scrolling tab row shows the tab of this page (no vertical jump)
    var nav = document.querySelector(".meja-nav"), tab = nav && nav.querySelector("[aria-current]");
    if (!tab || nav.scrollWidth <= nav.clientWidth) return;
    if (tab.offsetLeft < nav.scrollLeft || tab.offsetLeft + tab.offsetWidth > nav.scrollLeft + nav.clientWidth)
      nav.scrollLeft = tab.offsetLeft - nav.offsetLeft;
  }
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.xhr && e.detail.xhr.status === 422) focusErrors(document);
    showCurrentTab();
  });
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); showCurrentTab(); });
  document.addEventListener("click", function (e) {
    if (e.target && e.target.id === "net-error-retry") {
      banner(false);
      if (last && document.body.contains(last)) htmx.trigger(last, last.tagName === "FORM" ? "submit" : "click");
      else location.reload();
    }
  });
})();
