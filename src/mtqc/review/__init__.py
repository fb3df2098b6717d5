"""Editors' reviews: the review file, the corrected article, and not raising dismissed flags again."""
