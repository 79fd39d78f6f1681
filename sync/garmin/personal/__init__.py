"""Garmin Connect's official Personal API (shared/garmin-connect/PERSONAL-API.md).

`client.PersonalApiClient` returns the same typed records as the Connect client (garth / DI),
so one sync serves every kind of account. `transport` sends (key -> bearer token, pacing per
key, Retry-After, errors); `gate` keeps a key's requests in flight at two or fewer;
`endpoints` holds the paths and the range caps.
"""
