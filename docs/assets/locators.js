// Where a finding's figures stand in its source: the button after a citation (".locator-toggle")
// shows its note on hover and focus by CSS alone; here a tap or Enter/Space pins it open
// (aria-expanded), and Escape closes it until the pointer or focus leaves (WCAG 1.4.13).
// One listener on the document, so pages loaded by instant navigation need no setup.
(function () {
  "use strict";

  function close(locator) {
    var toggle = locator.querySelector(".locator-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", "false");
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".locator-toggle");
    document.querySelectorAll('.locator-toggle[aria-expanded="true"]').forEach(function (open) {
      if (open !== toggle) open.setAttribute("aria-expanded", "false");
    });
    if (!toggle) return;
    var locator = toggle.parentNode;
    locator.classList.remove("dismissed");
    toggle.setAttribute("aria-expanded", toggle.getAttribute("aria-expanded") === "true" ? "false" : "true");
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll(".locator").forEach(function (locator) {
      if (locator.matches(":hover, :focus-within") || locator.querySelector('[aria-expanded="true"]')) {
        close(locator);
        locator.classList.add("dismissed");
      }
    });
  });

  function undismiss(event) {
    var locator = event.target.closest && event.target.closest(".locator");
    if (locator && !locator.contains(event.relatedTarget)) locator.classList.remove("dismissed");
  }
  document.addEventListener("mouseout", undismiss);
  document.addEventListener("focusout", undismiss);
})();
