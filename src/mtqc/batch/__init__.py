"""Batch checking at archive scale: a folder, a tree or a JSON Lines file; incremental, resumable, parallel.

`archive.ArchiveBatch` is the entry point (used by `mtqc batch`). Its parts, in the order an
article meets them: `sources` (read the input as units), `plan` (what to check, where each
report goes, what the last run already did), `executors` (where a job is checked), `records`
(the one record of an article's result), `journal` (summary.jsonl), `workdb` (the on-disk
working index), `summary` (summary.json, index.html) and `progress`.
"""
