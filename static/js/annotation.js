// Participant question page: time on the question, the paste flag, a save that failed shown and retried until the
// server acknowledges it, and a last report when the page is left (carrying whatever the server has not acknowledged).
// Saving each change is htmx attributes on the form; without JavaScript the buttons still save.
(function () {
  "use strict";
  // Copy a code (the completion code on the done page) to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    });
  });

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

    // Live character count and, while the explanation is too short, how many characters are missing.
    var count = document.getElementById("reasoning-count");
    var hint = document.getElementById("reasoning-hint");
    function showCount() {
      if (!reasoning || !count) { return; }
      var minimum = parseInt(reasoning.dataset.minChars || "0", 10);
      var length = reasoning.value.trim().length;
      count.textContent = minimum > 0 ? length + " / " + minimum + " characters" : length + " characters";
      if (hint) {
        var missing = Math.max(minimum, 1) - length;
        hint.textContent = missing > 0 && length > 0
          ? "Please write " + missing + " more character" + (missing === 1 ? "" : "s") + " to complete this answer."
          : "";
      }
    }
    if (reasoning) {
      reasoning.addEventListener("input", showCount);
      showCount();
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

    // htmx save: add the time since the last report to the request (given back if the save fails).
    var inFlightMs = 0;
    document.body.addEventListener("htmx:configRequest", function (event) {
      if (event.detail.elt !== form) { return; }
      inFlightMs = collect();
      event.detail.parameters.elapsed_ms = String(inFlightMs);
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

    // What the server has acknowledged: a save counts once its answer arrives (a 2xx), never when it is sent, so
    // leaving the page sends whatever was lost in a failed or unanswered save.
    function current() {
      var checked = form.querySelector("input[name=choice]:checked");
      return { choice: checked ? checked.value : "", reasoning: reasoning ? reasoning.value : "" };
    }
    var stored = current();
    if (changedBeforeReady()) { stored = { choice: "", reasoning: reasoning ? reasoning.defaultValue : "" }; }
    var inFlight = null;
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.elt === form) { inFlight = current(); }
    });

    // A save that failed (an error status, no answer, a timeout): say so, and send the form again after a pause
    // that doubles up to half a minute, until the server acknowledges a save. htmx swaps no error response into
    // the status line, so without this it would keep saying "Saved." through an outage.
    var RETRY_FIRST_MS = 1000;
    var RETRY_MAX_MS = 30000;
    var retryDelay = RETRY_FIRST_MS;
    var retryTimer = null;
    function showStatus(text, failed) {
      var status = document.getElementById("save-status");
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("error", failed);
    }
    function retry() {
      retryTimer = null;
      if (window.htmx) { window.htmx.trigger(form, "change"); }
    }
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.elt !== form) { return; }
      if (event.detail.successful) {
        if (inFlight) { stored = inFlight; }
        inFlight = null;
        retryDelay = RETRY_FIRST_MS;
        if (retryTimer !== null) { window.clearTimeout(retryTimer); retryTimer = null; }
        return;
      }
      pending += inFlightMs;  // the time it carried goes with the next save
      inFlightMs = 0;
      inFlight = null;
      var status = event.detail.xhr ? event.detail.xhr.status : 0;
      if (status === 403 || status === 404 || status === 410) {
        // The session is gone or the place released: no retry can succeed; the page says what to do on reload.
        showStatus("Not saved. Please reload this page.", true);
        return;
      }
      showStatus("Not saved \u2014 retrying", true);
      if (retryTimer === null) {
        retryTimer = window.setTimeout(retry, retryDelay);
        retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
      }
    });

    // Leaving the page (refresh, close, another tab on a phone): a beacon carries the remaining time and, if the
    // server has not acknowledged them (the save waits for a pause in typing, or it failed), the choice and the
    // explanation.
    function leave() {
      var ms = collect();
      var now = current();
      var unsaved = now.choice !== stored.choice || now.reasoning !== stored.reasoning;
      if ((ms <= 0 && !unsaved) || !navigator.sendBeacon || form.querySelector("fieldset[disabled]")) { return; }
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
      data.append("elapsed_ms", String(ms));
      data.append("beacon", "1");
      if (unsaved) {
        if (now.choice) { data.append("choice", now.choice); }
        data.append("reasoning", now.reasoning);
        data.append("pasted", pasted.value);
        stored = now;
      }
      navigator.sendBeacon(form.action, data);
    }
    window.addEventListener("pagehide", leave);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { leave(); }
    });

  });
})();
