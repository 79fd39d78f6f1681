"""OUTPUT: the EASY run of the verdict that counts, pushed to the athlete's Garmin calendar.

- `plan.py`: the workout a verdict prescribes, as plain data, and what is on the watch.
- `push.py`: make the calendar of a day match its verdict (through the Garmin adapter).
"""
