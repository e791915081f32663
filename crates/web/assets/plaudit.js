// Plaudit's only script: small progressive enhancements. Every page works without it.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  ready(function () {
    // Suggest the browser's time zone in an empty time zone field (sign-up).
    document.querySelectorAll("input[data-fill-timezone]").forEach(function (input) {
      if (input.value) return;
      try {
        var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
        if (tz) input.value = tz;
      } catch (e) {
        /* leave it empty: the server uses UTC */
      }
    });

    // Move focus to a form's error summary, so keyboard and screen reader
    // users land on what went wrong.
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  });
})();
