"""Signatory safety: who sees which signature, data minimization, retention, self-service, consent."""
