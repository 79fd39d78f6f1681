"""Self-service onboarding: signed, expiring, single-use invite links, and what using one does
(store the athlete's Personal API key and settings, consume the invite, start the first sync).

`invites` signs and checks the links; `accept` turns a posted form into a connected account;
`first_sync` starts the first sync the way the workers would. The page is sync.web.onboarding.
"""
