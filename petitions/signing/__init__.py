"""The signing feature.

models.py      the Signature and every move between its states (confirm, withdraw, moderate, merge, re-confirm)
rules.py       what counts, who sees which signature, the signer line
operations.py  the write actions (sign, confirm, withdraw, resend, remind, re-confirmation) and every mail to a signer
views.py       every public signer route (blueprint "signatures"); forms.py their forms
names.py       cleaning what signers type; levels.py the verification levels
"""
