// Behaviour for every page, kept out of the HTML: the Content-Security-Policy allows no inline event handlers.
// <select data-submit-on-change> submits its form when its value changes.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.matches("[data-submit-on-change]") && target.form) {
    target.form.requestSubmit();
  }
});
