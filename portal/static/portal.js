// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the error summary so screen-reader and keyboard users hear what to correct first.
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // Search as you type in long lists (the municipalities): a text box above the list narrows its options.
  for (const select of document.querySelectorAll("select[data-filter-label]")) {
    const field = document.createElement("div");
    field.className = "ds-field portal-filter";
    const label = document.createElement("label");
    label.className = "ds-label";
    label.dataset.weight = "regular";
    label.htmlFor = `${select.id}-filter`;
    label.textContent = select.dataset.filterLabel;
    const input = document.createElement("input");
    input.className = "ds-input";
    input.type = "search";
    input.id = `${select.id}-filter`;
    input.autocomplete = "off";
    field.append(label, input);
    (select.closest(".ds-field") || select).before(field);
    // Enter in the search box only picks the match; it does not send the form.
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") event.preventDefault();
    });
    input.addEventListener("input", () => {
      const wanted = input.value.trim().toLocaleLowerCase("nb");
      let first = null;
      for (const option of select.options) {
        const matches = !wanted || !option.value || option.text.toLocaleLowerCase("nb").includes(wanted);
        option.hidden = !matches;
        if (matches && option.value && !first) first = option;
      }
      for (const group of select.querySelectorAll("optgroup")) {
        group.hidden = ![...group.children].some((option) => !option.hidden);
      }
      if (first && (!select.value || select.selectedOptions[0]?.hidden)) select.value = first.value;
    });
  }
});

// Background work (a bulk download, an agreement being closed): while the page says it is not finished,
// fetch the page again every few seconds and swap in its status region (announced politely).
document.addEventListener("DOMContentLoaded", () => {
  const region = document.querySelector("[data-poll]");
  if (!region) return;
  const poll = async () => {
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById(region.id);
      if (!fresh) {
        window.location.reload(); // the work is done and the page says what became of it
        return;
      }
      if (fresh.innerHTML !== region.innerHTML) region.innerHTML = fresh.innerHTML;
      region.dataset.taskState = fresh.dataset.taskState || "";
      if (fresh.dataset.poll) window.setTimeout(poll, 2000);
      else delete region.dataset.poll;
    } catch (error) {
      window.setTimeout(poll, 5000);
    }
  };
  window.setTimeout(poll, 2000);
});
