"""The spine: computing, storing and reading verdicts (DESIGN s.2).

- `compute.py`: gather a DayContext from the database, run the pure model, store the verdict.
- `read.py`: the one rule for which stored verdict counts for a day, returning a typed verdict.
  Outputs (email, web, workouts) import only this module of the package.
- `policy.py`: when verdicts are computed (after a sync, before the morning email, after a
  soreness check-in).
- `thresholds.py`: the layered thresholds of one athlete.

This file imports nothing, so that reading never loads the compute side.
"""
