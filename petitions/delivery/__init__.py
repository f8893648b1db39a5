"""Delivery of a closed appeal to its addressees: cover mails, manual deliveries, replies."""
