"""Preference datasets: a saved plan (personas x prompts x splits), the y_l / critique / revision stages that fill
it, verification by role-play judging, and export/import in the Hugging Face layout."""
