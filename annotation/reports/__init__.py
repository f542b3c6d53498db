"""Study reports: human raters and LLM judges compared in kappa matrices, histograms and tables."""
