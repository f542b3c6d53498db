"""Prompts for preference data: import (PRISM conversations / cluster CSV / plain files), filters, the controversy
classifier, topics and the train / held-out split."""
