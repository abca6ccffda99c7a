/* Signature pad: draw with finger, pen or mouse (pointer events) on a canvas; the strokes go into a hidden input
   as JSON in pad units (1200 × 400). Without JavaScript the pad stays hidden and a typed-name field is shown. */
(function () {
  var W = 1200, H = 400;

  function setup(box) {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    var canvas = box.querySelector("canvas");
    var input = box.querySelector("[data-sigpad-value]");
    var field = box.parentNode;
    var fallback = field.querySelector("[data-sigpad-fallback]");
    var ctx = canvas.getContext("2d");
    var strokes = [], current = null;

    box.hidden = false;
    if (fallback) {
      fallback.hidden = true;
      var typed = fallback.querySelector("input");
      if (typed) typed.value = "";
    }
    ctx.lineWidth = 6;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#10205a";

    function point(e) {
      var r = canvas.getBoundingClientRect();
      var x = Math.round((e.clientX - r.left) * W / r.width);
      var y = Math.round((e.clientY - r.top) * H / r.height);
      return [Math.max(0, Math.min(W, x)), Math.max(0, Math.min(H, y))];
    }
    function save() {
      input.value = strokes.length ? JSON.stringify(strokes) : "";
      box.classList.toggle("signed", strokes.length > 0);
      var err = field.querySelector("#signature-error");
      if (err && strokes.length) err.hidden = true;
    }
    canvas.addEventListener("pointerdown", function (e) {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      var p = point(e);
      current = [p[0], p[1]];
      strokes.push(current);
      ctx.beginPath();
      ctx.moveTo(p[0], p[1]);
      ctx.lineTo(p[0] + 0.1, p[1]);
      ctx.stroke();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!current) return;
      var p = point(e), n = current.length;
      if (Math.abs(p[0] - current[n - 2]) + Math.abs(p[1] - current[n - 1]) < 3) return;
      ctx.beginPath();
      ctx.moveTo(current[n - 2], current[n - 1]);
      ctx.lineTo(p[0], p[1]);
      ctx.stroke();
      current.push(p[0], p[1]);
    });
    function end() {
      if (!current) return;
      current = null;
      save();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    box.querySelector("[data-sigpad-clear]").addEventListener("click", function () {
      strokes = [];
      ctx.clearRect(0, 0, W, H);
      save();
    });
  }

  function init(root) {
    var boxes = (root || document).querySelectorAll ? (root || document).querySelectorAll("[data-sigpad]") : [];
    for (var i = 0; i < boxes.length; i++) setup(boxes[i]);
  }
  if (window.htmx) htmx.onLoad(init);
  else document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
