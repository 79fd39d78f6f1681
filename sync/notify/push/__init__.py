"""Push notifications: per-athlete Apprise channels, the morning message and its one update."""
