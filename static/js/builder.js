// Study builder: "Add" beside a persona search result appends its number to the explicit list and switches the
// choice to "From a list I pick", then tells the form it changed (the live preview follows).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-add-persona]");
  if (!button) return;
  const field = document.getElementById("id_persona_ids");
  const ids = field.value.split(/[\s,#]+/).filter(Boolean);
  if (!ids.includes(button.dataset.addPersona)) ids.push(button.dataset.addPersona);
  field.value = ids.join(", ");
  const listMode = document.querySelector('input[name="persona_mode"][value="list"]');
  if (listMode) listMode.checked = true;
  button.textContent = "Added";
  button.disabled = true;
  field.dispatchEvent(new Event("change", { bubbles: true }));
});
