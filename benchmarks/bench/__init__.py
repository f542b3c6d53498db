"""PERSONA Bench: personalization methods answered by models under test, judged by a critic (pass / needs revision),
pass@k, intersectional slices, summary analysis and leave-one-out attribute influence — runs, results and exports."""
