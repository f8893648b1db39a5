"""A read-only JSON API, version 1. Every answer, errors included, is JSON."""
