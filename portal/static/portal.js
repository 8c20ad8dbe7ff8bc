// Progressive enhancement only: every page works without this file.
// Move focus to the error summary so screen-reader and keyboard users hear what to correct first.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
});
