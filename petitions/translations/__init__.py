"""Language versions of appeals: translations bound to a revision of the original, and the interface catalogs."""
