// Participant question page: time on the question, the paste flag, and a last time report when the page is left.
// Everything else (saving each change) is htmx attributes on the form; without JavaScript the buttons still save.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("answer-form");
    if (!form) { return; }
    var reasoning = document.getElementById("reasoning");
    var pasted = document.getElementById("pasted");
    var elapsedField = document.getElementById("elapsed_ms");
    var pending = 0;
    var visibleSince = document.visibilityState === "visible" ? Date.now() : null;

    function collect() {
      if (visibleSince !== null) {
        var now = Date.now();
        pending += now - visibleSince;
        visibleSince = now;
      }
      var value = Math.round(pending);
      pending = 0;
      return value;
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        visibleSince = Date.now();
      } else {
        // Keep the unsent time; it goes with the next save or the report on leaving.
        if (visibleSince !== null) { pending += Date.now() - visibleSince; }
        visibleSince = null;
      }
    });

    if (reasoning) {
      reasoning.addEventListener("paste", function (event) {
        if (form.dataset.blockPaste === "1") {
          event.preventDefault();
          var status = document.getElementById("save-status");
          if (status) { status.textContent = "Please type your explanation yourself; pasting is turned off."; }
          return;
        }
        pasted.value = "1";
      });
    }

    // htmx save: add the time since the last report to the request.
    document.body.addEventListener("htmx:configRequest", function (event) {
      if (event.detail.elt !== form) { return; }
      event.detail.parameters.elapsed_ms = String(collect());
    });
    // Plain form submit (Next / Previous): same.
    form.addEventListener("submit", function () { elapsedField.value = String(collect()); });

    // A change made before the scripts were ready (a slow phone, a quick tap) fired no htmx save; send it now.
    // htmx set itself up on this same event, earlier, because its script comes first.
    function changedBeforeReady() {
      var radios = form.querySelectorAll("input[type=radio]");
      for (var i = 0; i < radios.length; i++) {
        if (radios[i].checked !== radios[i].defaultChecked) { return true; }
      }
      return Boolean(reasoning && reasoning.value !== reasoning.defaultValue);
    }
    if (window.htmx && form.hasAttribute("hx-post") && changedBeforeReady()) {
      window.htmx.trigger(form, "change");
    }

    // Leaving the page: report the remaining time with a beacon (a save without choice or reasoning fields).
    window.addEventListener("pagehide", function () {
      var ms = collect();
      if (ms <= 0 || !navigator.sendBeacon || form.querySelector("fieldset[disabled]")) { return; }
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
      data.append("elapsed_ms", String(ms));
      data.append("beacon", "1");
      navigator.sendBeacon(form.action, data);
    });
  });
})();
