"""Language versions of an appeal, each bound to the revision of the original it translates."""
