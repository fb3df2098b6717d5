"""Calibration: from the signals' evidence to the probabilities, flags and severities an editor sees.

`model` holds a fitted calibration (features, heads, thresholds) and applies it as a report step;
`fit` learns one from annotated articles (scikit-learn, imported there only); `evaluate` reads
annotations and measures reports against them.
"""
