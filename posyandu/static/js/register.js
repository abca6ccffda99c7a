/* Registration on a phone: NIK first fills the birth date and sex (when still empty), and the form shows the
   fieldsets of the person's group (child, pregnancy) once the birth date and sex say which. Without JavaScript
   every fieldset is shown and the server takes an empty birth date and sex from the NIK. The thresholds come
   from the form's data attributes (domain.lifecycle); the NIK reading mirrors domain.nik.nik_birth_date. */
(function () {
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function parseDate(s) {
    s = (s || "").replace(/\s/g, "");
    var m = s.match(/^(\d{1,2})[-\/.](\d{1,2})[-\/.](\d{4})$/) || s.match(/^(\d{2})(\d{2})(\d{4})$/);
    if (m) return new Date(+m[3], +m[2] - 1, +m[1]);
    m = s.match(/^(\d{4})-(\d{2})-(\d{2})$/);
    return m ? new Date(+m[1], +m[2] - 1, +m[3]) : null;
  }
  function months(born, on) {
    var n = (on.getFullYear() - born.getFullYear()) * 12 + on.getMonth() - born.getMonth();
    return on.getDate() < born.getDate() ? n - 1 : n;
  }
  function typedInto(fs) {
    return Array.prototype.some.call(fs.querySelectorAll("input[type=text], select"), function (i) {
      return i.value && i.type !== "hidden" && i.tagName !== "SELECT";
    });
  }
  function update(form) {
    var born = parseDate(form.elements.birth_date && form.elements.birth_date.value);
    var checked = form.querySelector("input[name=sex]:checked");
    var age = born ? months(born, new Date()) : null;
    var years = (form.getAttribute("data-childbearing-years") || "10-55").split("-");
    var mother = form.elements.mother_id && form.elements.mother_id.value;
    var show = {
      child: !!mother || (age !== null && age >= 0 && age < +form.getAttribute("data-child-until-months")),
      pregnancy: !!checked && checked.value === "P" && age !== null && age >= years[0] * 12 && age < (+years[1] + 1) * 12
    };
    form.querySelectorAll("[data-show]").forEach(function (el) {
      var key = el.getAttribute("data-show");
      if (key === "none") el.hidden = show.child || show.pregnancy;
      else el.hidden = !(show[key] || el.querySelector(".invalid") || typedInto(el));
    });
  }
  function fromNik(form) {
    var nik = (form.elements.nik.value || "").replace(/[\s.\-]/g, "");
    if (!/^\d{16}$/.test(nik)) return;
    var day = +nik.substr(6, 2), month = +nik.substr(8, 2), year = 2000 + +nik.substr(10, 2), sex = "L";
    if (day > 40) { day -= 40; sex = "P"; }
    if (month < 1 || month > 12 || day < 1 || day > 31) return;
    var now = new Date();
    if (year > now.getFullYear() || new Date(year, month - 1, day) > now) year -= 100;
    var bd = form.elements.birth_date;
    if (bd && !bd.value) bd.value = pad(day) + "-" + pad(month) + "-" + year;
    var radio = form.querySelector("input[name=sex][value=" + sex + "]");
    if (radio && !form.querySelector("input[name=sex]:checked")) radio.checked = true;
  }
  function wire(root) {
    var forms = (root.matches && root.matches("form[data-groups]")) ? [root] : root.querySelectorAll("form[data-groups]");
    Array.prototype.forEach.call(forms, function (form) {
      if (form.__groups) return;
      form.__groups = true;
      form.addEventListener("input", function (e) {
        if (e.target.name === "nik") fromNik(form);
        update(form);
      });
      form.addEventListener("change", function () { update(form); });
      update(form);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:load", function (e) { wire(e.detail.elt); });
})();
