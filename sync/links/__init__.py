"""Signed, expiring links and their secret, shared by the email and the web (DESIGN s.2).

- `signing.py`: HMAC-signed, expiring claims (pure).
- `secret.py`: the signing key (settings or an owner-only key file).
- `build.py`: the athlete's links: report page, soreness check-in, unsubscribe, and their check.
"""
