"""The daily readiness email: templates to render it, senders to deliver it."""
