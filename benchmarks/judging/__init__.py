"""Role-play judges: an LLM endpoint (or an offline baseline) answering preference pairs as a persona would.

``models``: Judge, Judgment (one reply per judge x persona x pair x order x sample), Order and Choice.
``prompts``: the role-play wording. ``services``: running a judge over a persona x pair set as a job.
``aggregate``: the order-aggregated answer (see docs/judges.md).
"""
