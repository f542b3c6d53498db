"""Preference pairs brought in from outside: the JSONL / CSV import (run as a job) and its batches."""
