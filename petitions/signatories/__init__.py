"""The organizer review queue: levels, flags, approve/reject/vouch, duplicates and merges."""
